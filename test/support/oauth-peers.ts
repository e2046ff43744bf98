import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface IdpClientSpec {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  /** client_secret_basic by default; passport-oauth2 posts the secret (client_secret_post). */
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post';
}

export interface IdpSpec {
  name: string;
  /** Mount path, e.g. /realms/test for a Keycloak-like issuer. */
  path?: string;
  clients: IdpClientSpec[];
  /** Dynamic client registration at `<issuer>/reg` (see registerClient). */
  registration?: boolean;
  /** oidc-provider's route paths to change, e.g. `{ userinfo: '/userinfo' }` for a Google-shaped issuer. */
  routes?: Record<string, string>;
}

/** Google's three endpoints on a test issuer whose spec has `routes: GOOGLE_ROUTES`. */
export const GOOGLE_ROUTES = { userinfo: '/userinfo' };
export function googleEndpoints(issuer: string | undefined): Record<string, string> {
  if (!issuer) throw new Error('no issuer');
  return {
    GOOGLE_AUTHORIZATION_URL: `${issuer}/auth`,
    GOOGLE_TOKEN_URL: `${issuer}/token`,
    GOOGLE_USERINFO_URL: `${issuer}/userinfo`,
  };
}

export interface IdentityProviders {
  issuers: Record<string, string>;
  stop(): Promise<void>;
}

/** The claims of the account to sign in as at the test provider (see oidc-idp.mjs). */
export interface IdpAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
  xms_edov?: boolean;
  tamper?: 'signature' | 'audience' | 'nonce' | 'expired' | 'issuer';
}

/** Starts the `oidc-provider` issuers in their own process and waits until they listen. */
export async function startIdentityProviders(specs: IdpSpec[]): Promise<IdentityProviders> {
  const child: ChildProcess = spawn(process.execPath, [join(__dirname, 'oidc-idp.mjs')], {
    env: { ...process.env, IDP_SPECS: JSON.stringify(specs) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const issuers = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`identity provider did not start: ${output}`)), 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => candidate.startsWith('{"ready"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { ready: Record<string, string> }).ready);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`identity provider exited (${code}): ${output}`));
    });
  });
  return {
    issuers,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface AuthorizationResponse {
  code: string;
  state: string;
  iss?: string;
}

/**
 * Plays the browser: follows the provider's redirects (keeping its cookies) from the api's
 * authorization URL until it points at `redirectBase`, and returns what is on that redirect.
 */
export async function followToRedirect(
  authorizationUrl: string,
  redirectBase: string,
  extraParameters: Record<string, string> = {},
): Promise<AuthorizationResponse> {
  const start = new URL(authorizationUrl);
  for (const [key, value] of Object.entries(extraParameters)) start.searchParams.set(key, value);
  const cookies = new Map<string, string>();
  let url = start.href;
  for (let hop = 0; hop < 10; hop += 1) {
    if (url.startsWith(redirectBase)) {
      const params = new URL(url).searchParams;
      const code = params.get('code');
      const state = params.get('state');
      if (!code || !state) throw new Error(`redirect without a code: ${url}`);
      const iss = params.get('iss');
      return { code, state, ...(iss ? { iss } : {}) };
    }
    const res = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
    });
    for (const header of res.headers.getSetCookie()) {
      const [pair = ''] = header.split(';');
      const index = pair.indexOf('=');
      cookies.set(pair.slice(0, index), pair.slice(index + 1));
    }
    const location = res.headers.get('location');
    if (!location) throw new Error(`no redirect from ${url}: ${res.status} ${await res.text()}`);
    url = new URL(location, url).href;
  }
  throw new Error('too many redirects');
}

/** Registers a client at an issuer started with `registration: true`; its id and secret. */
export async function registerClient(
  issuer: string,
  redirectUris: string[],
): Promise<{ clientId: string; clientSecret: string }> {
  const res = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  });
  if (res.status !== 201) throw new Error(`registration refused: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { client_id: string; client_secret: string };
  return { clientId: body.client_id, clientSecret: body.client_secret };
}

export function loginHint(account: IdpAccount): string {
  return Buffer.from(JSON.stringify(account)).toString('base64url');
}

export interface GitHubUser {
  id: number;
  login: string;
  name: string | null;
  emails: Array<{ email: string; primary: boolean; verified: boolean }>;
}

export interface GitHubStandIn {
  url: string;
  clientId: string;
  clientSecret: string;
  /** Signs `user` in at the stand-in's authorize endpoint, as the browser would. */
  authorize(authorizationUrl: string, user: GitHubUser): Promise<AuthorizationResponse>;
  close(): Promise<void>;
}

/**
 * A loopback server speaking GitHub's OAuth web flow (/login/oauth/authorize, /login/oauth/access_token,
 * which answers errors with HTTP 200 like GitHub does) and its REST API (/user, /user/emails).
 */
export async function startGitHubStandIn(): Promise<GitHubStandIn> {
  const clientId = 'github-client';
  const clientSecret = 'github-secret';
  const codes = new Map<string, { user: GitHubUser; challenge: string | null; redirectUri: string }>();
  const tokens = new Map<string, GitHubUser>();
  const pendingUsers = new Map<string, GitHubUser>();
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    void (async () => {
      if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
        const user = pendingUsers.get(url.searchParams.get('login') ?? '');
        if (url.searchParams.get('client_id') !== clientId || !user) return json(res, 400, { error: 'bad request' });
        const code = randomBytes(10).toString('hex');
        const redirectUri = url.searchParams.get('redirect_uri') ?? '';
        codes.set(code, { user, challenge: url.searchParams.get('code_challenge'), redirectUri });
        const target = new URL(redirectUri);
        target.searchParams.set('code', code);
        target.searchParams.set('state', url.searchParams.get('state') ?? '');
        res.writeHead(302, { location: target.href });
        return res.end();
      }
      if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
        const form = await readBody(req);
        if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
          return json(res, 200, { error: 'incorrect_client_credentials' });
        }
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const challengeOk =
          !grant?.challenge || createHash('sha256').update(verifier).digest('base64url') === grant.challenge;
        if (!grant || !challengeOk || grant.redirectUri !== form.get('redirect_uri')) {
          return json(res, 200, {
            error: 'bad_verification_code',
            error_description: 'The code passed is incorrect or expired.',
          });
        }
        const token = `gho_${randomBytes(16).toString('hex')}`;
        tokens.set(token, grant.user);
        return json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
      }
      const user = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
      if (!user) return json(res, 401, { message: 'Bad credentials' });
      if (url.pathname === '/user') return json(res, 200, { id: user.id, login: user.login, name: user.name });
      if (url.pathname === '/user/emails') return json(res, 200, user.emails);
      return json(res, 404, { message: 'Not Found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    clientId,
    clientSecret,
    async authorize(authorizationUrl, user) {
      pendingUsers.set(user.login, user);
      const start = new URL(authorizationUrl);
      start.searchParams.set('login', user.login);
      const res = await fetch(start, { redirect: 'manual' });
      const location = res.headers.get('location');
      if (!location) throw new Error(`GitHub stand-in refused: ${res.status} ${await res.text()}`);
      const params = new URL(location).searchParams;
      return { code: params.get('code') ?? '', state: params.get('state') ?? '' };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
