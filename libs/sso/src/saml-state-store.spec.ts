import { setTimeout as sleep } from 'node:timers/promises';
import { MemorySamlStateStore } from './saml-state-store';

describe('MemorySamlStateStore', () => {
  it('gives a request back once, with its connection', async () => {
    const store = new MemorySamlStateStore();
    await store.saveRequest('_r1', 'connection-a', 60_000);
    await expect(store.takeRequest('_r1')).resolves.toBe('connection-a');
    await expect(store.takeRequest('_r1')).resolves.toBeUndefined();
    await expect(store.takeRequest('_unknown')).resolves.toBeUndefined();
  });

  it('forgets a request once its time is up', async () => {
    const store = new MemorySamlStateStore();
    await store.saveRequest('_r1', 'connection-a', 20);
    await sleep(40);
    await expect(store.takeRequest('_r1')).resolves.toBeUndefined();
  });

  it('is bounded: when full, the oldest request goes first', async () => {
    const store = new MemorySamlStateStore({ maxRequests: 2 });
    await store.saveRequest('_r1', 'a', 60_000);
    await store.saveRequest('_r2', 'a', 60_000);
    await store.saveRequest('_r3', 'a', 60_000);
    await expect(store.takeRequest('_r1')).resolves.toBeUndefined();
    await expect(store.takeRequest('_r2')).resolves.toBe('a');
    await expect(store.takeRequest('_r3')).resolves.toBe('a');
  });

  it('answers firstUse true once per key within the ttl, then again after it', async () => {
    const store = new MemorySamlStateStore();
    await expect(store.firstUse('c:a1', 60_000)).resolves.toBe(true);
    await expect(store.firstUse('c:a1', 60_000)).resolves.toBe(false);
    await expect(store.firstUse('c:a2', 60_000)).resolves.toBe(true);
    await expect(store.firstUse('c:b1', 20)).resolves.toBe(true);
    await sleep(60);
    await expect(store.firstUse('c:b1', 20)).resolves.toBe(true);
    await expect(store.firstUse('c:a1', 60_000)).resolves.toBe(false);
  });

  it('is bounded and fails closed: full of live assertions, it refuses new ones', async () => {
    const store = new MemorySamlStateStore({ maxAssertions: 2 });
    await expect(store.firstUse('a1', 60_000)).resolves.toBe(true);
    await expect(store.firstUse('a2', 60_000)).resolves.toBe(true);
    await expect(store.firstUse('a3', 60_000)).resolves.toBe(false);
    await expect(store.firstUse('a1', 60_000)).resolves.toBe(false);
  });

  it('makes room from expired assertions', async () => {
    const store = new MemorySamlStateStore({ maxAssertions: 2 });
    await store.firstUse('a1', 10);
    await store.firstUse('a2', 10);
    await sleep(30);
    await expect(store.firstUse('a3', 60_000)).resolves.toBe(true);
  });
});
