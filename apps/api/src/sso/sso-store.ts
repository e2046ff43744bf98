import { AppConfig } from '@app/config';
import { MemorySamlStateStore, RedisSamlStateStore, type SamlStateStore } from '@app/sso';
import { Injectable } from '@nestjs/common';
import { SingleUseStore } from '../common/single-use-store';

/**
 * Short-lived, single-use values of a sign-in in flight (what a RelayState stands for, the code
 * that hands a finished sign-in to the front end) and the SAML request/replay state.
 */
@Injectable()
export class SsoStore extends SingleUseStore {
  readonly saml: SamlStateStore;

  constructor(config: AppConfig) {
    super(config, 'sso');
    this.saml = this.redis ? new RedisSamlStateStore(this.redis, `${this.prefix}saml:`) : new MemorySamlStateStore();
  }
}
