import { NO_CONTROL_CHARACTERS, slugify, SLUG_PATTERN } from './text';

describe('slugify', () => {
  it('folds accents and punctuation into dashes', () => {
    expect(slugify('Ünïcode Örg & Co!', 'x')).toBe('unicode-org-co');
    expect(SLUG_PATTERN.test(slugify('  --Hello   World--  ', 'x'))).toBe(true);
  });

  it('falls back when nothing usable is left', () => {
    expect(slugify('日本語', 'team')).toBe('team');
  });
});

describe('NO_CONTROL_CHARACTERS', () => {
  it('refuses control characters and accepts ordinary text', () => {
    expect(NO_CONTROL_CHARACTERS.test('Ann O’Neil – Ünïcode')).toBe(true);
    expect(NO_CONTROL_CHARACTERS.test('a\u0000b')).toBe(false);
    expect(NO_CONTROL_CHARACTERS.test('line\nbreak')).toBe(false);
  });
});
