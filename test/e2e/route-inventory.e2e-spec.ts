import { createTestApp, registeredRoutes, type TestApp } from '@app/testing';

interface RouteAccess {
  route: string;
  access: string;
}

/**
 * Every route of the api with how it is guarded. The global guard denies anything not @Public(),
 * so a route is never open by accident; the snapshot makes each change of exposure visible in review.
 */
describe('route inventory', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  function inventory(): RouteAccess[] {
    return registeredRoutes(t.app)
      .map(({ method, controller, path, access }) => ({ route: `${method} ${controller}: ${path}`, access }))
      .sort((x, y) => x.route.localeCompare(y.route));
  }

  it('lists every route with its access rule', () => {
    expect(inventory()).toMatchSnapshot();
  });

  it('scopes every route under /organizations/:orgId by a permission', () => {
    for (const { route, access } of inventory()) {
      if (route.includes(':orgId')) expect(`${route} -> ${access}`).toMatch(/ -> permissions: /);
    }
  });

  it('keeps everything but sign-in entry points and probes behind authentication', () => {
    const publicRoutes = inventory()
      .filter((r) => r.access === 'public')
      .map((r) => r.route);
    for (const route of publicRoutes) {
      expect(route).toMatch(
        /^GET (Health|Liveness|Jwks)Controller|^POST (Auth|Mfa)Controller: \/auth\/(register|login|login\/mfa|refresh|verify-email|forgot-password|reset-password)$|^GET OAuthController: \/auth\/(providers|oauth\/:provider\/authorize)$|^POST OAuthController: \/auth\/(oauth\/:provider|keycloak)\/callback$|^POST SsoController: \/(sso\/discover|sso\/saml\/:connectionId\/acs|auth\/sso\/token)$|^GET SsoController: \/sso\/(:connectionId\/authorize|saml\/:connectionId\/metadata|oidc\/:connectionId\/callback)$|^GET WebhookCatalogueController: \/webhooks\/event-types$|^POST PasskeyController: \/auth\/login\/(mfa\/)?passkey(\/options)?$|^POST AccountExportController: \/users\/me\/export\/download$/,
      );
    }
  });

  it('really refuses every non-public route without a token', async () => {
    const authenticated = inventory().filter((r) => r.access !== 'public');
    expect(authenticated.length).toBeGreaterThan(0);
    for (const { route } of authenticated) {
      const [method = 'GET', , path = '/'] = route.split(' ');
      const url = `/api/v1${path.replace(/:[A-Za-z]+/g, '0195d2a0-7b1c-7c3e-8a4b-1234567890ab')}`;
      const res = await t.inject({ method: method as 'GET', url, payload: method === 'GET' ? undefined : {} });
      expect({ route, status: res.statusCode }).toEqual({ route, status: 401 });
    }
  });

  it('documents every operation in OpenAPI with its authentication and its error responses', async () => {
    const res = await t.inject({ method: 'GET', url: '/openapi.json' });
    const doc = res.json<{
      paths: Record<
        string,
        Record<string, { security?: Array<Record<string, unknown>>; responses: Record<string, unknown> }>
      >;
    }>();
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })),
    );
    expect(operations.length).toBe(inventory().length);
    for (const { route, operation } of operations) {
      expect({ route, hasSecurity: Array.isArray(operation.security) }).toEqual({ route, hasSecurity: true });
      const isPublic = operation.security?.some((requirement) => Object.keys(requirement).length === 0);
      if (!isPublic) {
        expect({ route, documents401: '401' in operation.responses }).toEqual({ route, documents401: true });
      }
    }
  });
});
