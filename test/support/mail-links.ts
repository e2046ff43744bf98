import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';

/**
 * The links a mail reader would make of a plain text: the text is put in a real MIME message
 * (nodemailer) and read back by mailparser, whose text-to-HTML view turns every URL, host name,
 * email and IP address it recognises into an anchor (linkify-it with the full list of top-level
 * domains and fuzzy matching, as webmail readers do). Its `@handle` rule, which links to a social
 * network rather than to a place the text names, is left out.
 */
export async function autolinks(text: string): Promise<string[]> {
  const parsed = await simpleParser(await new MailComposer({ text }).compile().build());
  const html = typeof parsed.textAsHtml === 'string' ? parsed.textAsHtml : '';
  return [...html.matchAll(/<a href="([^"]*)"/g)]
    .map((match) => match[1] ?? '')
    .filter((href) => !href.startsWith('https://twitter.com/'));
}

/** What a reader shows of an HTML part (mailparser's html-to-text), and the anchors the markup has. */
export async function htmlView(html: string): Promise<{ text: string; anchors: string[] }> {
  const parsed = await simpleParser(await new MailComposer({ html }).compile().build());
  return {
    text: parsed.text ?? '',
    anchors: [...html.matchAll(/<a\s[^>]*href="([^"]*)"/g)].map((match) => match[1] ?? ''),
  };
}
