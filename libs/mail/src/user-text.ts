/**
 * Text that someone other than the platform chose (an organization's name, a person's name) may
 * appear in the body of a mail, never in its subject, and only in a form no mail client turns
 * into a link. The rules, applied in this order:
 *
 * 1. Invisible and layout characters go: control characters, format characters (zero-width
 *    spaces and joiners, bidirectional overrides, soft hyphens) and line or paragraph separators.
 *    Runs of whitespace, line breaks included, become one space. So the text stays on its line,
 *    reads in the order it is stored, and cannot hide a break between the parts of a link.
 * 2. Quoted text is cut to `maxLength` characters (then "…").
 * 3. A colon between a letter or digit and a slash or backslash becomes `[:]`:
 *    `http://evil.test` → `http[:]//evil[.]test`; so does the colon after a scheme that needs no
 *    slashes (`mailto:`, `tel:`, `sms:`, `javascript:`, `data:` and a few more).
 * 4. In every run of dot-separated labels that looks like a host name (its last label has two
 *    or more characters and a letter, as top-level domains have) and in every dotted IPv4
 *    address, each dot becomes `[.]`: `www.evil.test` → `www[.]evil[.]test`,
 *    `ann@evil.test` → `ann@evil[.]test`, `10.0.0.1` → `10[.]0[.]0[.]1`. The full stops that
 *    IDNA treats as dots (`。` `．` `｡`) and look-alikes (`․` `﹒`) count as dots.
 *    `1.5`, `v2.0`, `e.g.` and a sentence's final full stop are left alone.
 *
 * The HTML part still escapes everything (the `html` template): these rules are about links,
 * not markup.
 */

const DOTS = '.\u3002\uFF0E\uFF61\u2024\uFE52';
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const LABEL = '[\\p{L}\\p{N}\\p{M}_-]+';
const HOST_LIKE = new RegExp(`${LABEL}(?:[${DOTS}]${LABEL})+`, 'gu');
const SCHEME_SEPARATOR = /(?<=[\p{L}\p{N}]):(?=[/\\])/gu;
const BARE_SCHEME = /\b(mailto|tel|sms|callto|facetime|skype|javascript|vbscript|data|file|ftp|news|xmpp|magnet):/giu;
const QUOTES = /["\u201C\u201D\u201E\u201F\u2033\uFF02]/g;

function clean(text: string): string {
  return text
    .replace(/[\t\n\v\f\r\u0085\u2028\u2029]/g, ' ')
    .replace(INVISIBLE, '')
    .replace(/\s+/gu, ' ')
    .trim();
}

function looksLikeHost(labels: string[]): boolean {
  const last = labels[labels.length - 1] ?? '';
  if ([...last].length >= 2 && /\p{L}/u.test(last)) return true;
  return labels.length === 4 && labels.every((label) => /^\d{1,3}$/.test(label));
}

/** Rules 1, 3 and 4: the text, on one line, with nothing a mail client would make a link of. */
export function neutraliseLinks(text: string): string {
  return clean(text)
    .replace(SCHEME_SEPARATOR, '[:]')
    .replace(BARE_SCHEME, '$1[:]')
    .replace(HOST_LIKE, (run) => {
      const labels = run.split(new RegExp(`[${DOTS}]`, 'u'));
      return looksLikeHost(labels) ? labels.join('[.]') : run;
    });
}

/**
 * User-chosen text as a mail body shows it: cleaned, cut to `maxLength` characters, links
 * neutralised, in double quotes (double quotes inside become single ones, so the text cannot
 * seem to end early and the platform's own words seem to follow).
 */
export function quoteUserText(text: string, maxLength = 80): string {
  const characters = [...clean(text).replace(QUOTES, "'")];
  const shown =
    characters.length > maxLength ? `${characters.slice(0, maxLength).join('').trimEnd()}…` : characters.join('');
  return `"${neutraliseLinks(shown)}"`;
}
