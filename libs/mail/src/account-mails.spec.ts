import { autolinks, htmlView } from '../../../test/support/mail-links';
import { invitationMail, lockoutMail, notificationMail, passwordResetMail, verificationMail } from './account-mails';
import { neutraliseLinks, quoteUserText } from './user-text';

/** Names an organization or a person could be given to turn the platform's mails into phishing. */
const HOSTILE = [
  'URGENT reset your password at http://evil.test/reset now',
  'Visit https://evil.example.com/login?next=/account',
  'HTTPS://EVIL.EXAMPLE.COM',
  'www.evil-bank.com',
  'evil-bank.com support',
  'Mail security@evil-bank.com today',
  'mailto:security@evil-bank.com',
  'Go to 203.0.113.7/reset',
  'http://203.0.113.7:8080/x',
  'пример.рф',
  'xn--e1afmkfd.xn--p1ai',
  'evil-bank\u00AD.com',
  'Acme\nPlease sign in at evil-bank.com',
  'Sign in at \u202Eevil-bank.com',
];
/** Forms this reader does not link but other clients may: the rules must break them all the same. */
const LOOKALIKES = [
  'ftp://files.evil-bank.com/payload',
  'evil-bank。com',
  'evil-bank．com',
  'evil-bank｡com',
  'ｅｖｉｌ－ｂａｎｋ．ｃｏｍ',
  'evil-bank.\u200Bcom',
  'evil-bank\u2024com',
];
/** What is left of a link once neutralised must not contain: a dot between two labels, or "://". */
const LIVE_PART = /[\p{L}\p{N}][.\u3002\uFF0E\uFF61\u2024\uFE52][\p{L}\p{N}]|:[/\\]/u;

describe('neutraliseLinks', () => {
  it.each(HOSTILE)('leaves no link a mail reader would follow in %j', async (name) => {
    // The reader does find one in the raw text: this check can fail.
    expect((await autolinks(name)).length).toBeGreaterThan(0);
    expect(await autolinks(neutraliseLinks(name))).toEqual([]);
    expect(await autolinks(quoteUserText(name))).toEqual([]);
    expect(neutraliseLinks(name)).not.toMatch(LIVE_PART);
  });

  it.each(LOOKALIKES)('breaks the look-alike %j too', async (name) => {
    expect(neutraliseLinks(name)).not.toMatch(LIVE_PART);
    expect(await autolinks(neutraliseLinks(name))).toEqual([]);
  });

  it.each([
    ['http://evil.test/reset', 'http[:]//evil[.]test/reset'],
    ['HTTPS://Evil.Test', 'HTTPS[:]//Evil[.]Test'],
    ['http:\\\\evil.test', 'http[:]\\\\evil[.]test'],
    ['www.evil.test', 'www[.]evil[.]test'],
    ['ann@evil.test', 'ann@evil[.]test'],
    ['mailto:ann@evil.test', 'mailto[:]ann@evil[.]test'],
    ['javascript:alert(1)', 'javascript[:]alert(1)'],
    ['10.0.0.1', '10[.]0[.]0[.]1'],
    ['evil。test evil．test evil｡test', 'evil[.]test evil[.]test evil[.]test'],
    ['пример.рф', 'пример[.]рф'],
    ['evil.\u200Btest', 'evil[.]test'],
    ['abc\u202Etset.live', 'abctset[.]live'],
    ['Line one\r\nLine two\u2028three', 'Line one Line two three'],
    ['  spaced \t out  ', 'spaced out'],
  ])('breaks the links in %j as documented', (input, expected) => {
    expect(neutraliseLinks(input)).toBe(expected);
  });

  it.each(['Acme Inc.', 'Version 1.5 and v2.0', 'e.g. this', 'Team: ops', 'Ratio 3:2', "Ann-Marie O'Neil", 'Zoë'])(
    'leaves ordinary text %j as it is',
    (input) => {
      expect(neutraliseLinks(input)).toBe(input);
    },
  );

  it('is idempotent (quoted text may reach a template that neutralises again)', () => {
    for (const name of [...HOSTILE, ...LOOKALIKES]) {
      const once = neutraliseLinks(name);
      expect(neutraliseLinks(once)).toBe(once);
    }
  });
});

describe('quoteUserText', () => {
  it('quotes, neutralises, and keeps inner quotes from closing the quotation', () => {
    expect(quoteUserText('URGENT reset your password at http://evil.test/reset now')).toBe(
      '"URGENT reset your password at http[:]//evil[.]test/reset now"',
    );
    expect(quoteUserText('Acme" asks you to sign in at “evil.test”')).toBe(
      `"Acme' asks you to sign in at 'evil[.]test'"`,
    );
  });

  it('cuts long text, and neutralises what is left of a cut link', () => {
    expect(quoteUserText('x'.repeat(100))).toBe(`"${'x'.repeat(80)}…"`);
    expect(quoteUserText(`${'a'.repeat(70)} http://evil.test/reset`)).toBe(`"${'a'.repeat(70)} http[:]//ev…"`);
    expect(quoteUserText('Short', 3)).toBe('"Sho…"');
  });
});

describe('invitationMail', () => {
  const context = {
    organizationName: 'URGENT reset your password at http://evil.test/reset now',
    inviterName: 'Security team, see www.evil.test',
    link: 'https://app.example.test/accept-invitation?token=inv_abc',
    days: 7,
  };

  it('keeps user-chosen text out of the subject', () => {
    const mail = invitationMail('Acme', 'bob@example.test', context);
    expect(mail.subject).toBe('You have an invitation on Acme');
    expect(invitationMail('Acme', 'bob@example.test', { ...context, inviterName: null }).subject).toBe(
      'You have an invitation on Acme',
    );
  });

  it('quotes the names in text and HTML with no link but the invitation', async () => {
    const mail = invitationMail('Acme', 'bob@example.test', context);
    expect(mail.text).toContain(
      '"Security team, see www[.]evil[.]test" invited you to join the organization "URGENT reset your password at http[:]//evil[.]test/reset now" on Acme.',
    );
    expect(mail.text).toContain('chosen by the organization, not by Acme');
    expect(await autolinks(mail.text)).toEqual([context.link]);
    const view = await htmlView(mail.html ?? '');
    expect(view.anchors).toEqual([context.link]);
    expect(view.text).toContain('http[:]//evil[.]test/reset');
    expect(await autolinks(view.text)).toEqual([context.link]);
    expect(mail.html).not.toMatch(/evil\.test/);
  });

  it('escapes markup in the names', () => {
    const mail = invitationMail('Acme', 'bob@example.test', {
      ...context,
      organizationName: 'Invite <Co>',
      inviterName: '<b>Ann</b>',
    });
    expect(mail.html).toContain('&quot;Invite &lt;Co&gt;&quot;');
    expect(mail.html).toContain('&quot;&lt;b&gt;Ann&lt;/b&gt;&quot; invited you');
    expect(mail.html).not.toContain('<b>Ann</b>');
  });
});

describe('account mails', () => {
  const user = { email: 'victim@example.test', fullName: 'URGENT reset your password at http://evil.test/reset now' };

  it.each([
    ['verification', verificationMail('Acme', user, 'https://app.example.test/verify-email?token=ev_1', 24)],
    ['password reset', passwordResetMail('Acme', user, 'https://app.example.test/reset-password?token=pr_1', 60)],
    ['lockout', lockoutMail('Acme', user, 15)],
  ])('%s: carries no text the recipient did not choose, not even the name', async (_kind, mail) => {
    expect(`${mail.subject}\n${mail.text}\n${mail.html ?? ''}`).not.toMatch(/URGENT|evil/);
    expect(mail.text.startsWith('Hello,\n')).toBe(true);
    expect((await autolinks(mail.text)).every((href) => href.startsWith('https://app.example.test/'))).toBe(true);
  });
});

describe('notificationMail', () => {
  const user = { email: 'ann@example.test', fullName: 'Ann <b>' };

  it('builds text and HTML from the same paragraphs, escaping every value', () => {
    const mail = notificationMail('Acme', user, {
      subject: 'Report <ready>',
      paragraphs: ['Your report "Q3" is ready.', '<script>alert(1)</script>'],
      action: { label: 'Open <it>', url: 'https://app.example.test/r?a=1&b=2' },
    });
    expect(mail.to).toBe('ann@example.test');
    expect(mail.subject).toBe('Report <ready>');
    expect(mail.text).toBe(
      'Hello,\n\nYour report "Q3" is ready.\n\n<script>alert(1)</script>\n\nOpen <it>: https://app.example.test/r?a=1&b=2\n\n— Acme',
    );
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).toContain('<p>Hello,</p>');
    expect(mail.html).not.toContain('Ann');
    expect(mail.html).toContain('<h2>Report &lt;ready&gt;</h2>');
    expect(mail.html).toContain('href="https://app.example.test/r?a=1&amp;b=2"');
    expect(mail.html).toContain('>Open &lt;it&gt;</a>');
  });

  it('drops an action whose link is not http(s)', () => {
    const mail = notificationMail(
      'Acme',
      { email: 'x@example.test', fullName: null },
      {
        subject: 'Hi',
        paragraphs: ['One.'],
        action: { label: 'Run', url: 'javascript:alert(1)' },
      },
    );
    expect(mail.html).not.toContain('javascript:');
    expect(mail.text).not.toContain('javascript:');
    expect(mail.text.startsWith('Hello,')).toBe(true);
  });

  it('leaves the action the one link: names in the subject or paragraphs cannot become others', async () => {
    const action = { label: 'Open Acme', url: 'https://app.example.test/' };
    const mail = notificationMail('Acme', user, {
      subject: 'News from http://evil.test',
      paragraphs: [`"Mallory" added you to the organization "Sign in at evil.test/login".`],
      action,
    });
    expect(mail.subject).toBe('News from http[:]//evil[.]test');
    expect(mail.text).toContain('"Sign in at evil[.]test/login"');
    expect(await autolinks(mail.text)).toEqual([action.url]);
    const view = await htmlView(mail.html ?? '');
    expect(view.anchors).toEqual([action.url]);
    expect(await autolinks(view.text)).toEqual([action.url]);
  });
});
