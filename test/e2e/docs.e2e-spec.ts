import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The documentation a newcomer walks: every relative link in README.md, CONTRIBUTING.md and docs/
 * resolves to a file (and a heading, when it names one), and every `npm run <script>` it tells
 * them to type exists in package.json.
 */
const ROOT = join(__dirname, '..', '..');
const pages = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
].filter((page) => existsSync(join(ROOT, page)));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading?.[1]) continue;
    const base = heading[1]
      .trim()
      .toLowerCase()
      .replace(/[`*_]/g, '')
      .replace(/[^\p{L}\p{N}\s-]/gu, '')
      .replace(/\s/g, '-');
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n += 1) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

/** Markdown outside fenced code blocks and inline code spans. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The relative links in `text` (a page at `pageFile`) that lead nowhere. */
function brokenLinks(text: string, pageFile: string): string[] {
  const broken: string[] = [];
  for (const match of prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1] ?? '';
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [path = '', anchor] = target.split('#');
    const file = path ? resolve(dirname(pageFile), decodeURIComponent(path)) : pageFile;
    if (path && !existsSync(file)) {
      broken.push(`${target} (no ${relative(ROOT, file)})`);
      continue;
    }
    const headings = file === pageFile ? text : file.endsWith('.md') ? readFileSync(file, 'utf8') : undefined;
    if (anchor && headings !== undefined && !anchorsOf(headings).has(anchor)) {
      broken.push(`${target} (no heading #${anchor})`);
    }
  }
  return broken;
}

/** The `npm run` scripts `text` names that package.json does not have. */
function missingScripts(text: string, scripts: string[]): string[] {
  const named = [...text.matchAll(/npm run ([a-z][\w:-]*)/g)].map((match) => match[1] ?? '');
  return [...new Set(named.filter((script) => !scripts.includes(script)))];
}

describe('documentation', () => {
  const scripts = Object.keys(
    (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts,
  );

  it('has pages to check', () => {
    expect(pages).toContain('README.md');
    expect(pages.some((page) => page.startsWith('docs/'))).toBe(true);
  });

  it.each(pages)('%s: every relative link resolves', (page) => {
    expect(brokenLinks(readFileSync(join(ROOT, page), 'utf8'), join(ROOT, page))).toEqual([]);
  });

  it.each(pages)('%s: every npm run command exists', (page) => {
    expect(missingScripts(readFileSync(join(ROOT, page), 'utf8'), scripts)).toEqual([]);
  });

  it('reports a missing page, a missing heading and an unknown script', () => {
    const page = [
      '# A page',
      '[here](#a-page), [gone](no-such-page.md), [anchor](../README.md#no-such-heading), [web](https://example.com)',
      '`[in code](nowhere.md)` and `npm run start`, then npm run no-such-script',
    ].join('\n');
    expect(brokenLinks(page, join(ROOT, 'docs', 'page.md'))).toEqual([
      'no-such-page.md (no docs/no-such-page.md)',
      '../README.md#no-such-heading (no heading #no-such-heading)',
    ]);
    expect(missingScripts(page, scripts)).toEqual(['no-such-script']);
  });
});
