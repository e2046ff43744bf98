import { escapeHtml, html } from './escape-html';

describe('escapeHtml', () => {
  it('neutralises markup and attribute breakouts', () => {
    expect(escapeHtml('<script>alert("x")</script>')).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(escapeHtml(`" onmouseover='x'`)).toBe('&quot; onmouseover=&#39;x&#39;');
    expect(escapeHtml('Tom & Jerry')).toBe('Tom &amp; Jerry');
  });

  it('escapes interpolated values only', () => {
    const name = '<b>Eve</b>';
    expect(html`<p>Hello ${name}</p>`).toBe('<p>Hello &lt;b&gt;Eve&lt;/b&gt;</p>');
  });
});
