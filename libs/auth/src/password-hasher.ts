import { AppConfig } from '@app/config';
import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';
import { Semaphore } from './semaphore';

/**
 * argon2id hashing. Hashes run on libuv's thread pool; the semaphore caps how many run at once
 * so a login storm queues here instead of starving every other use of the pool (DNS, fs, crypto).
 */
@Injectable()
export class PasswordHasher {
  private readonly gate: Semaphore;
  private readonly options: argon2.Options & { type: typeof argon2.argon2id };
  private dummyHash: Promise<string> | undefined;

  constructor(config: AppConfig) {
    this.gate = new Semaphore(config.auth.hashConcurrency);
    this.options = { type: argon2.argon2id, ...config.auth.argon2 };
  }

  hash(password: string): Promise<string> {
    return this.gate.run(() => argon2.hash(password, this.options));
  }

  async verify(hash: string | null, password: string): Promise<boolean> {
    // No hash (an OAuth-only account): spend the same time as a real check, then refuse.
    if (!hash) {
      await this.burn(password);
      return false;
    }
    try {
      return await this.gate.run(() => argon2.verify(hash, password));
    } catch {
      return false;
    }
  }

  /** A verify against a throwaway hash, so an unknown account costs the same time as a known one. */
  async burn(password: string): Promise<void> {
    this.dummyHash ??= this.hash('not-a-real-password-just-for-timing');
    const hash = await this.dummyHash;
    await this.gate.run(() => argon2.verify(hash, password)).catch(() => false);
  }

  /** True when a stored hash used weaker parameters than the current ones. */
  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, this.options);
  }
}
