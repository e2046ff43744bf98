import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface NpmRegistryStandIn {
  url: string;
  /** Decoded package names asked for, in order. */
  asked: string[];
  /** Accept headers received. */
  accepts: string[];
  close(): Promise<void>;
}

/**
 * A loopback server answering like the npm registry's package documents: `GET /<name>` (scoped
 * names as `@scope%2fname`) → `{ name, 'dist-tags': { latest }, versions }`. `latest(name)` decides
 * the answer: a version, a status code to fail with, or undefined for 404.
 */
export async function startNpmRegistryStandIn(
  latest: (name: string) => string | number | undefined,
): Promise<NpmRegistryStandIn> {
  const standIn: NpmRegistryStandIn = { url: '', asked: [], accepts: [], close: () => Promise.resolve() };
  const server = createServer((request, response) => {
    const name = decodeURIComponent((request.url ?? '/').slice(1));
    standIn.asked.push(name);
    standIn.accepts.push(String(request.headers.accept));
    const answer = request.method === 'GET' ? latest(name) : 405;
    if (typeof answer === 'string') {
      response.writeHead(200, { 'content-type': 'application/vnd.npm.install-v1+json' });
      response.end(
        JSON.stringify({
          name,
          modified: new Date().toISOString(),
          'dist-tags': { latest: answer },
          versions: { [answer]: { name, version: answer, dist: { tarball: `${standIn.url}/${name}/-/x.tgz` } } },
        }),
      );
      return;
    }
    response.writeHead(answer ?? 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: answer ? 'Internal Server Error' : 'Not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return standIn;
}
