const KEY = Symbol.for('saas.process-shared');

type Shared = Record<string, unknown>;

/**
 * One object per process for what may outlive a single Nest application in it: today, the process
 * metrics' collectors (`Metrics`), which run once per process however many applications it boots
 * (tests, and teams' own suites, boot many apps per process).
 *
 * In a normal process this is a property of `globalThis`. Jest gives each test file a new global
 * object; `test/support/jest-environment.js` hands every file of a worker process the same one, so
 * the files of a worker share it the way a process's applications do. Nothing a request can reach
 * is kept here.
 */
export function processShared<T>(name: string, make: () => T): T {
  const holder = globalThis as { [KEY]?: Shared };
  const shared = (holder[KEY] ??= {});
  if (!(name in shared)) shared[name] = make();
  return shared[name] as T;
}
