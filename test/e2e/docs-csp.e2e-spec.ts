import { createTestApp, type TestApp } from '@app/testing';

/** Every <script> of a page: its attributes and whether it has inline code. */
function scripts(html: string): Array<{ src: string | null; type: string | null; inline: boolean }> {
  return [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)].map(([, attributes = '', body = '']) => ({
    src: /\bsrc\s*=\s*["']([^"']*)["']/i.exec(attributes)?.[1] ?? null,
    type: /\btype\s*=\s*["']([^"']*)["']/i.exec(attributes)?.[1] ?? null,
    inline: body.trim().length > 0,
  }));
}

/** The documentation pages run no inline script, and their policy says so. */
describe('documentation pages: content security policy', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { DOCS_ENABLED: 'true' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it.each(['/docs', '/redoc'])('%s: scripts from this origin only, and no inline script on the page', async (path) => {
    const page = await t.inject({ method: 'GET', url: path });
    expect(page.statusCode).toBe(200);
    const policy = String(page.headers['content-security-policy']);
    const scriptSrc = /script-src ([^;]*)/.exec(policy)?.[1];
    expect(scriptSrc).toBe("'self'");
    const found = scripts(page.body);
    expect(found.length).toBeGreaterThan(0);
    for (const script of found) {
      // An inline block is allowed only as data (never run); a script with code must load from here.
      if (script.inline) expect(script.type).toBe('application/json');
      if (script.src) expect(script.src).not.toMatch(/^(https?:)?\/\//);
    }
    // What the page loads is really served, as JavaScript.
    for (const script of found.filter((entry) => entry.src)) {
      // Resolved as a browser would, against the page address.
      const url = new URL(script.src!, `http://localhost${path}`).pathname;
      const asset = await t.inject({ method: 'GET', url });
      expect({ url, status: asset.statusCode }).toEqual({ url, status: 200 });
      expect(asset.headers['content-type']).toMatch(/javascript/);
    }
  });
});
