import { cleanDisplayName, NO_CONTROL_CHARACTERS, slugify, SLUG_PATTERN, spoofingCharacter } from './text';

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

describe('spoofing characters in names', () => {
  it('finds bidirectional controls, zero-width and invisible characters', () => {
    for (const char of [
      '\u202E',
      '\u202A',
      '\u2066',
      '\u2069',
      '\u200E',
      '\u200F',
      '\u061C',
      '\u200B',
      '\u200C',
      '\u2060',
      '\uFEFF',
      '\u00AD',
      '\u{E0041}',
      '\u3164',
      '\u115F',
      '\u2800',
    ]) {
      const name = `Ann${char}Example`;
      expect({ name: JSON.stringify(name), found: spoofingCharacter(name) }).toEqual({
        name: JSON.stringify(name),
        found: char,
      });
    }
  });

  it('leaves real text alone, emoji sequences with joiners included', () => {
    for (const name of ['Ann Example', 'Zoë Ångström', 'محمد', 'שלום', '李小龍', '👩‍💻 Dev team', '👨🏽‍🚀', 'Café ☕️']) {
      expect({ name, found: spoofingCharacter(name) }).toEqual({ name, found: undefined });
    }
    // A joiner that glues no emoji is refused.
    expect(spoofingCharacter('Ann\u200DExample')).toBe('\u200D');
  });

  it('cleans names from elsewhere: NFC, spoofing characters dropped, trimmed, null when nothing is left', () => {
    expect(cleanDisplayName('  evil\u202Etxt.exe ')).toBe('eviltxt.exe');
    expect(cleanDisplayName('Zoe\u0308')).toBe('Zoë');
    expect(cleanDisplayName('👩‍💻 Ann')).toBe('👩‍💻 Ann');
    expect(cleanDisplayName('\u200B\u3164')).toBeNull();
    expect(cleanDisplayName(null)).toBeNull();
  });
});
