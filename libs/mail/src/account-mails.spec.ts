import { notificationMail } from './account-mails';

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
      'Hello Ann <b>,\n\nYour report "Q3" is ready.\n\n<script>alert(1)</script>\n\nOpen <it>: https://app.example.test/r?a=1&b=2\n\n— Acme',
    );
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).toContain('Hello Ann &lt;b&gt;,');
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
});
