export { parseIdpMetadata, MAX_METADATA_CHARS, type IdpMetadata } from './idp-metadata';
export { type SamlProfile } from './saml-profile';
export { SamlRefusal, type SamlRefusalCode } from './saml-refusal';
export {
  SamlServiceProvider,
  serviceProviderMetadata,
  type SamlConnectionSettings,
  type SamlServiceProviderOptions,
} from './saml-service-provider';
export {
  MemorySamlStateStore,
  RedisSamlStateStore,
  type MemorySamlStateStoreOptions,
  type SamlStateStore,
} from './saml-state-store';
