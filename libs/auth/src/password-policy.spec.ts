import { AppConfig } from '@app/config';
import { PasswordPolicy } from './password-policy';

const policy = (env: Record<string, string> = {}) => new PasswordPolicy(AppConfig.fromEnv(env));

describe('PasswordPolicy', () => {
  it('accepts a long, unguessable passphrase', () => {
    expect(policy().check('Tangerine-Vortex-Quill-8841')).toEqual([]);
  });

  it('refuses common and guessable passwords even when long enough', () => {
    for (const password of ['password123', 'Password123!', 'qwertyuiop', 'iloveyou2024']) {
      expect(policy().check(password).join(' ')).toMatch(/too easy to guess/);
    }
  });

  it('enforces the length bounds', () => {
    expect(policy().check('Ab1!xyz')).toContain('must be at least 10 characters long');
    expect(policy().check('a'.repeat(129))).toEqual(['must be at most 128 characters long']);
    expect(policy({ PASSWORD_MIN_LENGTH: '12' }).check('Zq8#vLp2&Wm')).toContain('must be at least 12 characters long');
  });

  it('counts characters, not bytes', () => {
    expect(
      policy()
        .check('ünïcödé-pässwörd-ßtrøng-ĸey')
        .some((p) => p.includes('characters long')),
    ).toBe(false);
  });

  it('applies character classes only when configured', () => {
    const phrase = 'tangerine vortex quill marble';
    expect(policy().check(phrase)).toEqual([]);
    expect(policy({ PASSWORD_REQUIRE_CLASSES: 'true' }).check(phrase)).toEqual([
      'must contain an upper-case letter',
      'must contain a digit',
    ]);
    expect(policy({ PASSWORD_REQUIRE_CLASSES: 'true' }).check('tangerinevortexquillmarble')).toContain(
      'must contain a symbol',
    );
  });

  it("refuses passwords built from the user's email or name", () => {
    const context = { email: 'marguerite.okonkwo@example.com', fullName: 'Marguerite Okonkwo' };
    expect(policy().check('Okonkwo-Forever-2024!', context)).toContain('must not contain your email address or name');
    expect(policy().check('Tangerine-Vortex-Quill-8841', context)).toEqual([]);
  });

  it('honours the minimum score', () => {
    expect(policy({ PASSWORD_MIN_SCORE: '0' }).check('password12')).toEqual([]);
  });
});
