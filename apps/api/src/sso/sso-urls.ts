import type { AppConfig } from '@app/config';

/** The service-provider addresses of one connection, as the IdP and the front end see them. */
export function connectionUrls(config: AppConfig, connectionId: string) {
  const base = `${config.appUrl}/api/v1/sso`;
  return {
    spEntityId: `${base}/saml/${connectionId}/metadata`,
    acsUrl: `${base}/saml/${connectionId}/acs`,
    redirectUri: `${base}/oidc/${connectionId}/callback`,
    loginUrl: `${base}/${connectionId}/authorize`,
  };
}
