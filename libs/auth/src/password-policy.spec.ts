import { AppConfig } from '@app/config';
import { PasswordPolicy } from './password-policy';

// One policy per configuration, each with its checker thread, stopped at the end.
const policies = new Map<string, PasswordPolicy>();
const policy = (env: Record<string, string> = {}) => {
  const key = JSON.stringify(env);
  const existing = policies.get(key);
  if (existing) return existing;
  const created = new PasswordPolicy(AppConfig.fromEnv(env));
  policies.set(key, created);
  return created;
};

afterAll(() => {
  for (const created of policies.values()) created.onModuleDestroy();
});

describe('PasswordPolicy', () => {
  it('accepts a long, unguessable passphrase', async () => {
    expect(await policy().check('Tangerine-Vortex-Quill-8841')).toEqual([]);
  });

  it('refuses common and guessable passwords even when long enough', async () => {
    for (const password of ['password123', 'Password123!', 'qwertyuiop', 'iloveyou2024']) {
      expect((await policy().check(password)).join(' ')).toMatch(/too easy to guess/);
    }
  });

  it('enforces the length bounds', async () => {
    expect(await policy().check('Ab1!xyz')).toContain('must be at least 10 characters long');
    expect(await policy().check('a'.repeat(129))).toEqual(['must be at most 128 characters long']);
    expect(await policy({ PASSWORD_MIN_LENGTH: '12' }).check('Zq8#vLp2&Wm')).toContain(
      'must be at least 12 characters long',
    );
  });

  it('counts characters, not bytes', async () => {
    expect((await policy().check('ünïcödé-pässwörd-ßtrøng-ĸey')).some((p) => p.includes('characters long'))).toBe(
      false,
    );
  });

  it('applies character classes only when configured', async () => {
    const phrase = 'tangerine vortex quill marble';
    expect(await policy().check(phrase)).toEqual([]);
    expect(await policy({ PASSWORD_REQUIRE_CLASSES: 'true' }).check(phrase)).toEqual([
      'must contain an upper-case letter',
      'must contain a digit',
    ]);
    expect(await policy({ PASSWORD_REQUIRE_CLASSES: 'true' }).check('tangerinevortexquillmarble')).toContain(
      'must contain a symbol',
    );
  });

  it("refuses passwords built from the user's email or name", async () => {
    const context = { email: 'marguerite.okonkwo@example.com', fullName: 'Marguerite Okonkwo' };
    expect(await policy().check('Okonkwo-Forever-2024!', context)).toContain(
      'must not contain your email address or name',
    );
    expect(await policy().check('Tangerine-Vortex-Quill-8841', context)).toEqual([]);
  });

  it('honours the minimum score', async () => {
    expect(await policy({ PASSWORD_MIN_SCORE: '0' }).check('password12')).toEqual([]);
  });
});
