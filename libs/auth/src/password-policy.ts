import { AppConfig, type PasswordPolicyConfig } from '@app/config';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { GuessabilityChecker } from './guessability-checker';

export interface PasswordContext {
  email?: string | null;
  fullName?: string | null;
}

/**
 * The password rules, applied on register, change and reset: length bounds, optional character
 * classes, and a guessability estimate (zxcvbn with common-password and English dictionaries)
 * that also treats the user's own email and name as guessable. The estimate runs in a worker
 * thread loaded on demand (see GuessabilityChecker).
 */
@Injectable()
export class PasswordPolicy implements OnModuleDestroy {
  private readonly rules: PasswordPolicyConfig;
  readonly checker: GuessabilityChecker;

  constructor(config: AppConfig) {
    this.rules = config.auth.passwordPolicy;
    this.checker = new GuessabilityChecker(this.rules.checkerIdleSeconds * 1000);
  }

  onModuleDestroy(): void {
    // The thread ends with the application. (Handing an idle, loaded thread to the next application
    // of the process was tried to save the tests ~0.5 s of CPU per app; a later test file's checks
    // then stalled in the services run, 30 s and a 503, and the hand-over was taken out again.)
    this.checker.stop();
  }

  /** Every rule the password breaks, in words a user can act on; empty when it is acceptable. */
  async check(password: string, context: PasswordContext = {}): Promise<string[]> {
    const problems: string[] = [];
    const { minLength, maxLength, requireClasses, minScore } = this.rules;
    const length = [...password].length;
    if (length < minLength) problems.push(`must be at least ${minLength} characters long`);
    if (length > maxLength) {
      problems.push(`must be at most ${maxLength} characters long`);
      return problems;
    }
    if (requireClasses) {
      if (!/[A-Z]/.test(password)) problems.push('must contain an upper-case letter');
      if (!/[a-z]/.test(password)) problems.push('must contain a lower-case letter');
      if (!/[0-9]/.test(password)) problems.push('must contain a digit');
      if (!/[^A-Za-z0-9]/.test(password)) problems.push('must contain a symbol');
    }
    const personal = personalWords(context);
    const lowered = password.toLowerCase();
    if (personal.some((word) => word.length >= 4 && lowered.includes(word))) {
      problems.push('must not contain your email address or name');
    }
    const result = await this.checker.check(password, personal);
    if (result.score < minScore) {
      const hint = result.warning ? `: ${result.warning.replace(/\.$/, '').toLowerCase()}` : '';
      problems.push(`is too easy to guess${hint}`);
    }
    return problems;
  }
}

function personalWords(context: PasswordContext): string[] {
  const words = new Set<string>();
  const email = context.email?.toLowerCase();
  if (email) {
    const [local = '', domain = ''] = email.split('@');
    words.add(local);
    for (const part of local.split(/[._+-]+/)) words.add(part);
    words.add(domain.split('.')[0] ?? '');
  }
  for (const part of context.fullName?.toLowerCase().split(/\s+/) ?? []) words.add(part);
  return [...words].filter((word) => word.length >= 3);
}
