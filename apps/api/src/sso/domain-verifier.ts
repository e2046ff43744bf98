import { AppConfig } from '@app/config';
import { Injectable } from '@nestjs/common';
import { Resolver } from 'node:dns/promises';

/** The DNS name and value an organization publishes to prove it controls a domain. */
export function verificationRecord(domain: string, token: string): { name: string; value: string } {
  return { name: `_saas-verification.${domain}`, value: `saas-domain-verification=${token}` };
}

/**
 * Checks a domain's verification TXT record with its own resolver (SSO_DNS_SERVERS, or the
 * system's), so that what proves a domain is DNS and nothing the requester controls here.
 */
@Injectable()
export class DomainVerifier {
  private readonly resolver = new Resolver({ timeout: 2_000, tries: 1 });

  constructor(config: AppConfig) {
    if (config.sso.dnsServers.length > 0) this.resolver.setServers(config.sso.dnsServers);
  }

  /** 'verified', 'absent' (no matching record), or 'unreachable' (DNS did not answer). */
  async check(domain: string, token: string): Promise<'verified' | 'absent' | 'unreachable'> {
    const { name, value } = verificationRecord(domain, token);
    try {
      const records = await this.resolver.resolveTxt(name);
      return records.some((chunks) => chunks.join('') === value) ? 'verified' : 'absent';
    } catch (error) {
      const code = (error as { code?: string }).code;
      return code === 'ENOTFOUND' || code === 'ENODATA' ? 'absent' : 'unreachable';
    }
  }
}
