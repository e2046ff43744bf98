// What a module needs to add a sign-in strategy of its own.
export {
  isSignInStrategy,
  type ExternalIdentity,
  type SignInProviderInfo,
  type SignInStrategy,
} from './sign-in-strategy';
export {
  runStrategy,
  strategyRequest,
  type SignInIntent,
  type StrategyOutcome,
  type StrategyRequest,
} from './passport-bridge';
export { hardenOAuth2Transport, type TransportLimits } from './oauth2-transport';
export { OpenIdConnectStrategy, type OpenIdConnectOptions } from './openid-connect.strategy';
export { SignInStrategies } from './sign-in-strategies';
