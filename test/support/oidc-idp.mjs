// A real OpenID provider (the `oidc-provider` package) for the OAuth tests, run as its own process
// so its ESM dependency tree stays out of Jest. It serves one issuer per entry of IDP_SPECS (one
// port each: "google", "microsoft", "keycloak", "generic"...) and prints `{"ready":{name: issuer}}`.
//
// No browser: the test appends `login_hint=<base64url JSON of the account's claims>` to the
// authorization URL; the interaction route signs that account in and consent is pre-granted, so
// following the redirects ends at `redirect_uri?code=…&state=…`.
//
// To prove the client validates ID tokens, an account may carry `tamper`: "signature", "audience",
// "nonce", "expired" or "issuer"; its ID token is then altered (and re-signed with the provider's
// own key, except for "signature").
import { createServer } from 'node:http';
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK } from 'jose';

const specs = JSON.parse(process.env.IDP_SPECS ?? '[]');
const accounts = new Map();
const ready = {};

async function signingKey() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `test-${Math.random().toString(36).slice(2, 10)}`, alg: 'RS256', use: 'sig' };
}

function claimsFromHint(hint) {
  const claims = JSON.parse(Buffer.from(String(hint ?? ''), 'base64url').toString('utf8'));
  if (typeof claims.sub !== 'string') throw new Error('login_hint needs a sub');
  return claims;
}

async function tamper(idToken, mode, key, issuer) {
  if (mode === 'signature') {
    const [header, payload, signature] = idToken.split('.');
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    return `${header}.${payload}.${flipped}`;
  }
  const payload = decodeJwt(idToken);
  const header = decodeProtectedHeader(idToken);
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'audience') payload.aud = 'someone-else';
  if (mode === 'nonce') payload.nonce = 'not-the-nonce-you-sent';
  if (mode === 'issuer') payload.iss = `${issuer}/elsewhere`;
  if (mode === 'expired') Object.assign(payload, { iat: now - 7200, exp: now - 3600 });
  return new SignJWT(payload).setProtectedHeader(header).sign(await importJWK(key, 'RS256'));
}

async function start(spec) {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}${spec.path ?? ''}`;
  const key = await signingKey();
  const provider = new Provider(issuer, {
    clients: spec.clients.map((client) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      ...client,
    })),
    jwks: { keys: [key] },
    ...(spec.routes ? { routes: spec.routes } : {}),
    cookies: { keys: ['idp-test-cookie-key'] },
    pkce: { required: () => true },
    // registration: dynamic client registration (POST <issuer>/reg), for a test that learns its
    // redirect URI only after the api made it.
    features: { devInteractions: { enabled: false }, registration: { enabled: spec.registration === true } },
    claims: { openid: ['sub'], email: ['email', 'email_verified', 'xms_edov'], profile: ['name', 'groups'] },
    conformIdTokenClaims: false,
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => {
        const { tamper: _ignored, ...claims } = accounts.get(id) ?? {};
        return { ...claims, sub: id };
      },
    }),
    interactions: { url: (_ctx, interaction) => `${spec.path ?? ''}/interaction/${interaction.uid}` },
    loadExistingGrant: async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile');
      grant.addOIDCClaims(['email', 'email_verified', 'xms_edov', 'name', 'groups']);
      await grant.save();
      return grant;
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path.endsWith('/token') && ctx.body && typeof ctx.body.id_token === 'string') {
      const mode = accounts.get(decodeJwt(ctx.body.id_token).sub)?.tamper;
      if (mode) ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, mode, key, issuer) };
    }
  });
  const handle = provider.callback();
  const prefix = spec.path ?? '';
  server.on('request', (req, res) => {
    const path = (req.url ?? '').slice(prefix.length);
    if (path.startsWith('/interaction/')) {
      provider
        .interactionDetails(req, res)
        .then((details) => {
          const claims = claimsFromHint(details.params.login_hint);
          accounts.set(claims.sub, claims);
          return provider.interactionFinished(req, res, { login: { accountId: claims.sub } });
        })
        .catch((error) => {
          res.statusCode = 400;
          res.end(String(error?.message ?? error));
        });
      return;
    }
    // Mounted under a path (like a Keycloak realm): oidc-provider reads the mount point from
    // originalUrl, as behind Express's app.use(prefix, …).
    if (prefix) {
      req.originalUrl = req.url;
      req.url = path || '/';
    }
    handle(req, res);
  });
  ready[spec.name] = issuer;
}

for (const spec of specs) await start(spec);
process.stdout.write(`${JSON.stringify({ ready })}\n`);
process.on('SIGTERM', () => process.exit(0));
