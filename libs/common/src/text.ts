import { QueryFailedError } from 'typeorm';

/** A URL-friendly slug: ASCII letters and digits joined by dashes, at most 80 characters. */
export function slugify(text: string, fallback: string): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return slug || fallback;
}

/** True for PostgreSQL's unique_violation (a taken slug, name or email). */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string }).code === '23505';
}

/** Lower-case slug of 1-100 characters with inner dashes only. */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$/;

/** No control characters (which PostgreSQL text refuses, or which break logs and mails). */
export const NO_CONTROL_CHARACTERS = /^[^\p{Cc}\p{Cs}]*$/u;

/** Letters that draw nothing (Hangul fillers, the braille blank): invisible in a name, though not format characters. */
const BLANK_LETTERS = new Set([0x115f, 0x1160, 0x3164, 0xffa0, 0x2800]);
const ZERO_WIDTH_JOINER = 0x200d;
const PICTOGRAPH = /\p{Extended_Pictographic}/u;
/** What may stand between a pictograph and a joiner: variation selector 16, skin tones. */
const EMOJI_MODIFIER = /^(?:\uFE0F|[\u{1F3FB}-\u{1F3FF}])$/u;
const FORMAT = /\p{Cf}/u;

/** Which characters of `chars` let a name pretend to be something else (see spoofingCharacter). */
function spoofingAt(chars: string[]): boolean[] {
  return chars.map((char, i) => {
    const code = char.codePointAt(0)!;
    if (BLANK_LETTERS.has(code)) return true;
    if (!FORMAT.test(char)) return false;
    if (code !== ZERO_WIDTH_JOINER) return true;
    let before = i - 1;
    while (before >= 0 && EMOJI_MODIFIER.test(chars[before]!)) before -= 1;
    return !(before >= 0 && PICTOGRAPH.test(chars[before]!) && PICTOGRAPH.test(chars[i + 1] ?? ''));
  });
}

/**
 * The first character that lets a name pretend to be something else, or undefined: every Unicode
 * format character (bidirectional overrides, embeddings and isolates, zero-width spaces and
 * joiners, the word joiner, the byte-order mark, soft hyphens, tag characters, ...) and letters
 * that draw nothing. One exception keeps emoji working: a zero-width joiner between two
 * pictographs (👩‍💻), where it only glues an emoji sequence together.
 */
export function spoofingCharacter(text: string): string | undefined {
  const chars = Array.from(text);
  const flagged = spoofingAt(chars);
  const index = flagged.indexOf(true);
  return index === -1 ? undefined : chars[index];
}

/**
 * A display name as it is stored: NFC-normalised (the same letters are the same bytes), spoofing
 * characters removed, trimmed. For names that come from elsewhere (an identity provider's
 * profile), where refusing would refuse the sign-in; names people type are refused instead.
 */
export function cleanDisplayName(text: string | null | undefined): string | null {
  if (text == null) return null;
  const chars = Array.from(text.normalize('NFC'));
  const flagged = spoofingAt(chars);
  const kept = chars
    .filter((_char, i) => !flagged[i])
    .join('')
    .trim();
  return kept.length > 0 ? kept : null;
}
