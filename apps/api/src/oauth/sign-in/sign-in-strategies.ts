import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import {
  isSignInStrategy,
  PROVIDER_ID_PATTERN,
  type SignInProviderInfo,
  type SignInStrategy,
} from './sign-in-strategy';

/**
 * Every sign-in strategy the application has: found among the providers of all its modules (an
 * instance with `signInProvider` and `authenticate`), so a module adds one by listing it. Ids are
 * checked once at start-up: a malformed or duplicate id stops the api.
 */
@Injectable()
export class SignInStrategies implements OnApplicationBootstrap {
  private strategies: Map<string, SignInStrategy> | undefined;

  constructor(private readonly discovery: DiscoveryService) {}

  onApplicationBootstrap(): void {
    this.all();
  }

  get(id: string): SignInStrategy | undefined {
    return this.all().get(id);
  }

  list(): SignInProviderInfo[] {
    return [...this.all().values()].map((strategy) => ({ ...strategy.signInProvider }));
  }

  private all(): Map<string, SignInStrategy> {
    if (this.strategies) return this.strategies;
    const found = new Map<string, SignInStrategy>();
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.isDependencyTreeStatic()) continue;
      const instance: unknown = wrapper.instance;
      if (!looksLikeStrategy(instance)) continue;
      const { id } = instance.signInProvider;
      if (!PROVIDER_ID_PATTERN.test(id))
        throw new Error(`sign-in strategy id "${id}" must match ${PROVIDER_ID_PATTERN}`);
      const existing = found.get(id);
      if (existing && existing !== instance) throw new Error(`two sign-in strategies have the id "${id}"`);
      found.set(id, instance);
    }
    this.strategies = found;
    return found;
  }
}

/** Some providers are proxies that throw on any property read outside a request (nestjs-cls): not strategies. */
function looksLikeStrategy(instance: unknown): instance is SignInStrategy {
  try {
    return isSignInStrategy(instance);
  } catch {
    return false;
  }
}
