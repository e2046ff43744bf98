/** Who the provider says signed in. `emailVerified` is true only when the provider vouches for it. */
export interface ExternalIdentity {
  /** The strategy's id (`google`, `oidc`, `saml:<connection>`, …): with `subject`, the identity's key. */
  provider: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  /** Other claims or assertion attributes, all values as strings (role mappings read them). */
  attributes?: Record<string, string[]>;
}

/** How a sign-in strategy shows itself in `GET /auth/providers` and in the routes. */
export interface SignInProviderInfo {
  /** The route segment: `/auth/oauth/{id}/authorize`. Lowercase letters, digits and dashes. */
  id: string;
  displayName: string;
  /** Free text for front ends: `oidc`, `oauth2`, … */
  type: string;
}

/**
 * A sign-in strategy: any passport strategy (one of passport's catalogue through `PassportStrategy`
 * from `@nestjs/passport`, or a subclass of `passport-strategy`) that says who it is and hands
 * passport's `success` an {@link ExternalIdentity}. List it as a provider of any module the api
 * imports and the registry finds it; nothing in the framework names it.
 *
 * A redirect strategy keeps its `state` in {@link SignInStateStore} (passport-oauth2 strategies:
 * `store: states.forPassport(id)`), which binds the flow to its purpose (sign-in or linking) and,
 * for linking, to the user who started it.
 */
export interface SignInStrategy {
  readonly signInProvider: SignInProviderInfo;
  /** passport's contract: called with passport's actions (`success`, `fail`, `redirect`, `error`, `pass`) on `this`. */
  authenticate(req: never, options?: never): unknown;
}

export function isSignInStrategy(value: unknown): value is SignInStrategy {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<SignInStrategy>;
  return typeof candidate.authenticate === 'function' && typeof candidate.signInProvider?.id === 'string';
}

export const PROVIDER_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;
