import { SamlRefusal, type SamlConnectionSettings, type SamlProfile, type SamlServiceProvider } from '@app/sso';
import type { StrategyRequest } from '../oauth/sign-in/passport-bridge';
import type { ExternalIdentity, SignInProviderInfo, SignInStrategy } from '../oauth/sign-in/sign-in-strategy';

type Actions = {
  success(user: ExternalIdentity, info: SamlSignInInfo): void;
  fail(challenge: { code: string }, status?: number): void;
  redirect(url: string): void;
  error(error: unknown): void;
};

/** What a SAML sign-in adds to the identity (passport's `info`). */
export interface SamlSignInInfo {
  /** The AuthnRequest this answers; null when the IdP started the sign-in. */
  inResponseTo: string | null;
  profile: SamlProfile;
}

/**
 * One organization's SAML connection as a passport strategy, on the framework's SAML service
 * provider (node-saml underneath, with the checks it leaves to its caller). Without a
 * `SAMLResponse` it redirects to the IdP with an AuthnRequest (options.relayState); with one it
 * validates it and hands over the identity, or fails with the refusal's code.
 */
export class SamlConnectionStrategy implements SignInStrategy {
  readonly name: string;
  readonly signInProvider: SignInProviderInfo;

  constructor(
    private readonly sp: SamlServiceProvider,
    private readonly settings: SamlConnectionSettings,
    displayName: string,
  ) {
    this.name = `saml:${settings.connectionId}`;
    this.signInProvider = { id: this.name, displayName, type: 'saml' };
  }

  authenticate(req: StrategyRequest, options: { relayState?: string } = {}): void {
    const actions = this as unknown as Actions;
    const response = req.body.SAMLResponse;
    const work =
      response === undefined
        ? this.sp.authorizeUrl(this.settings, options.relayState ?? '').then(({ url }) => actions.redirect(url))
        : this.consume(response, actions);
    work.catch((error: unknown) => actions.error(error));
  }

  private async consume(response: unknown, actions: Actions): Promise<void> {
    if (typeof response !== 'string' || response.length === 0) {
      actions.fail({ code: 'malformed' }, 400);
      return;
    }
    let profile: SamlProfile;
    try {
      profile = await this.sp.validate(this.settings, response);
    } catch (error) {
      if (error instanceof SamlRefusal) {
        actions.fail({ code: error.code, message: error.message } as { code: string }, 400);
        return;
      }
      throw error;
    }
    const email = profile.email?.toLowerCase() ?? null;
    actions.success(
      {
        provider: this.name,
        subject: profile.nameId,
        email,
        // Vouched only together with the domain check the sign-in service makes next.
        emailVerified: email !== null,
        name: profile.displayName ?? ([profile.firstName, profile.lastName].filter(Boolean).join(' ') || null),
        attributes: profile.attributes,
      },
      { inResponseTo: profile.inResponseTo, profile },
    );
  }
}
