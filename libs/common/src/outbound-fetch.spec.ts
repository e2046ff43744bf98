import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchOutbound, guardedFetch, isAllowedTarget, isPrivateAddress, OutboundRefused } from './outbound-fetch';

describe('fetchOutbound (server-side requests to URLs someone else chose)', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/redirect') {
        response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
      } else if (request.url === '/big') {
        response.writeHead(200).end('x'.repeat(4096));
      } else if (request.url === '/slow') {
        setTimeout(() => response.writeHead(200).end('late'), 1_000);
      } else if (request.url === '/trickle') {
        // A byte every 50 ms: never idle long enough for a socket timeout, never done.
        response.writeHead(200);
        const timer = setInterval(() => response.write('x'), 50);
        response.on('close', () => clearInterval(timer));
      } else if (request.url === '/echo') {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () =>
          response.writeHead(201, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] }).end(
            JSON.stringify({
              method: request.method,
              type: request.headers['content-type'],
              body: Buffer.concat(chunks).toString(),
            }),
          ),
        );
      } else if (request.url === '/missing') {
        response.writeHead(404).end();
      } else {
        response.writeHead(200, { 'content-type': 'application/xml' }).end('<ok/>');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const reason = async (url: string, options = {}) => {
    try {
      await fetchOutbound(url, options);
      return 'fetched';
    } catch (error) {
      return error instanceof OutboundRefused ? error.reason : `threw ${String(error)}`;
    }
  };

  it('matches allow-listed private targets by host and port, IPv6 in brackets', () => {
    expect(isAllowedTarget(['127.0.0.1:8080'], '127.0.0.1', '8080')).toBe(true);
    expect(isAllowedTarget(['127.0.0.1:8080'], '127.0.0.1', '8081')).toBe(false);
    expect(isAllowedTarget(['[::1]:8080'], '[::1]', '8080')).toBe(true);
    expect(isAllowedTarget(['[::1]:8080'], '::1', '8080')).toBe(true);
    expect(isAllowedTarget(['::1:8080'], '::1', '8080')).toBe(false);
    expect(isAllowedTarget(undefined, '127.0.0.1', '80')).toBe(false);
  });

  it('knows the private, loopback, link-local and mapped addresses', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      '::ffff:127.0.0.1',
      // How the URL parser writes [::ffff:127.0.0.1], the IPv4-compatible form, and NAT64.
      '::ffff:7f00:1',
      '::7f00:1',
      '64:ff9b::a9fe:a9fe',
      '2002:a9fe:a9fe::1',
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      '::ffff:0:a9fe:a9fe',
    ]) {
      expect({ address, private: isPrivateAddress(address) }).toEqual({ address, private: true });
    }
    for (const address of ['93.184.216.34', '1.1.1.1', '2606:4700::1111', '::ffff:1.1.1.1']) {
      expect({ address, private: isPrivateAddress(address) }).toEqual({ address, private: false });
    }
  });

  it('refuses loopback by address and by name (after DNS), unless allowed', async () => {
    expect(await reason(`${base}/`)).toBe('private-address');
    expect(await reason(base.replace('127.0.0.1', 'localhost') + '/')).toBe('private-address');
    expect(await reason('http://[::1]:1/')).toBe('private-address');
    expect(await fetchOutbound(`${base}/`, { allowPrivate: true })).toBe('<ok/>');
  });

  it('follows no redirect, and bounds size and time', async () => {
    expect(await reason(`${base}/redirect`, { allowPrivate: true })).toBe('redirect');
    expect(await reason(`${base}/big`, { allowPrivate: true, maxBytes: 1024 })).toBe('too-large');
    expect(await reason(`${base}/slow`, { allowPrivate: true, timeoutMs: 100 })).toBe('timeout');
    expect(await reason(`${base}/missing`, { allowPrivate: true })).toBe('http-status');
    // The deadline covers the whole exchange, not each quiet spell.
    expect(await reason(`${base}/trickle`, { allowPrivate: true, timeoutMs: 300 })).toBe('timeout');
  });

  it('gives libraries a fetch that goes through the same guard', async () => {
    const open = guardedFetch({ allowPrivate: true });
    const res = await open(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ code: 'abc' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(await res.json()).toEqual({ method: 'POST', type: 'application/x-www-form-urlencoded', body: 'code=abc' });
    const redirected = await open(`${base}/redirect`, {});
    expect(redirected.status).toBe(302);
    await expect(guardedFetch({})(`${base}/echo`, {})).rejects.toMatchObject({ reason: 'private-address' });
  });

  it('takes http(s) URLs only, https only when asked, never with credentials', async () => {
    expect(await reason('file:///etc/passwd')).toBe('bad-url');
    expect(await reason('gopher://example.com/')).toBe('bad-url');
    expect(await reason('not a url')).toBe('bad-url');
    expect(await reason('http://example.com/', { httpsOnly: true })).toBe('bad-url');
    expect(await reason('https://user:pw@example.com/')).toBe('bad-url');
  });
});
