import {
  bearer,
  createTestApp,
  registerAndLogin,
  startOpenAiStandIn,
  type OpenAiStandIn,
  type TestApp,
} from '@app/testing';
import { TENANT_TABLES } from '@app/migrations';
import fc from 'fast-check';

/**
 * Property-based fuzzing of every operation in the OpenAPI document: wrong types, huge and
 * unicode strings, negative and huge numbers, missing and extra fields, malformed JSON and bad ids,
 * with valid, invalid and no credentials. For every request: never a 5xx, never a stack trace or
 * SQL, errors always problem+json, and a 4xx leaves the data as it was.
 *
 * Replay a failure with FUZZ_SEED=<seed printed in the failure> (and FUZZ_RUNS to go deeper).
 */
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  queryParams: string[];
  bodyFields: string[];
}
interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> };
}
interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> };
}

/** Operations that, fed valid credentials, would end the fuzzer's own session or organization. */
const SELF_DESTRUCTIVE = new Set([
  'DELETE /api/v1/organizations/{orgId}',
  'POST /api/v1/auth/logout',
  'DELETE /api/v1/auth/sessions',
  'DELETE /api/v1/auth/sessions/{sessionId}',
  'POST /api/v1/auth/mfa/disable',
]);

/**
 * Answers that stay open when they pass (an event stream): fuzzed without valid credentials here;
 * test/e2e/events-stream.e2e-spec.ts reads them with a real client.
 */
const STREAMING = new Set(['GET /api/v1/organizations/{orgId}/events/stream']);

/**
 * Tables whose content a refused request must leave as it was: every tenant table (generated
 * resources included) but the audit log, whose rows for refusals are by design, and sign-in identities.
 */
const GUARDED_TABLES = [...TENANT_TABLES.filter((table) => table !== 'audit_logs'), 'oauth_accounts'];

const LEAK =
  /\bat [\w.<>]+ \(|node_modules|QueryFailedError|TypeError|ReferenceError|\bSELECT\b.*\bFROM\b|syntax error at/;

const weirdString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '%00',
    '../../etc/passwd',
    "' OR 1=1 --",
    '<script>alert(1)</script>',
    '🙂'.repeat(50),
  ),
  fc.constant('x'.repeat(70_000)),
);
/**
 * `depth` levels of `[[[…]]]` or `{"a":{"a":…}}` around a number, as JSON text (a value that deep,
 * built as a value, would overflow the generator's own recursion).
 */
function deeplyNested(depth: number, objects: boolean): string {
  return objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  weirdString,
  fc.integer(),
  fc.constantFrom(-1, 0, 2 ** 53, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.integer()), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  fc.uuid(),
);
const weirdId = fc.oneof(
  fc.uuid(),
  fc.constantFrom('not-a-uuid', '0', '-1', '00000000-0000-0000-0000-000000000000', '%2e%2e', 'a'.repeat(300)),
  fc.string({ maxLength: 20 }).filter((s) => s.length > 0),
);

function operations(document: OpenApiDocument): Operation[] {
  const result: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const parameters = operation.parameters ?? [];
      const ref = operation.requestBody?.content?.['application/json']?.schema?.$ref;
      const schema = ref ? document.components?.schemas?.[ref.split('/').pop() ?? ''] : undefined;
      result.push({
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: parameters.filter((p) => p.in === 'query').map((p) => p.name),
        bodyFields: Object.keys(schema?.properties ?? {}),
      });
    }
  }
  return result;
}

describe('fuzzing every operation of the OpenAPI document', () => {
  let t: TestApp;
  let llm: OpenAiStandIn;
  let document: OpenApiDocument;
  let token: string;
  let apiKey: string;
  let scimToken: string;
  let orgId: string;

  // Every guarded table's rows as one digest, in one statement (one round trip, not one per table).
  const FINGERPRINT_SQL = `SELECT string_agg(part, ',' ORDER BY part) AS digest FROM (${GUARDED_TABLES.map(
    // last_used_at is bookkeeping that any authenticated request may touch (after it answers).
    (table) =>
      `SELECT '${table}:' || md5(coalesce(string_agg((to_jsonb(t) - 'last_used_at')::text, '|' ORDER BY t::text), '')) AS part
         FROM "${table}" t`,
  ).join(' UNION ALL ')}) parts`;
  const fingerprint = async () => {
    const [row] = await t.dataSource.query<Array<{ digest: string }>>(FINGERPRINT_SQL);
    return row?.digest ?? '';
  };
  // The digest after a refused request is, by the check itself, the digest before it: it serves as
  // the next request's "before" unless a request that may have written (a 2xx) came in between.
  // One digest per refused request instead of two.
  let known: string | undefined;
  const digestBefore = async () => (known ??= await fingerprint());

  beforeAll(async () => {
    // A provider on loopback, so the LLM routes run their whole path (not configured, they answer 503).
    llm = await startOpenAiStandIn();
    t = await createTestApp({ env: { OPENAI_BASE_URL: llm.url } });
    const owner = await registerAndLogin(t, 'fuzz-owner');
    token = owner.tokens.access_token;
    const org = await t.inject({
      method: 'POST',
      url: '/api/v1/organizations',
      headers: bearer(token),
      payload: { name: 'Fuzzed' },
    });
    orgId = org.json<{ id: string }>().id;
    const key = await t.inject({
      method: 'POST',
      url: `/api/v1/organizations/${orgId}/api-keys`,
      headers: bearer(token),
      payload: { name: 'fuzz', permissions: ['teams:read', 'projects:read', 'projects:create'] },
    });
    apiKey = key.json<{ key: string }>().key;
    const scim = await t.inject({
      method: 'POST',
      url: `/api/v1/organizations/${orgId}/scim/tokens`,
      headers: bearer(token),
      payload: { name: 'fuzz' },
    });
    scimToken = scim.json<{ token: string }>().token;
    document = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApiDocument>();
    process.stdout.write(`fuzz seed ${SEED}, ${RUNS} runs per operation (replay: FUZZ_SEED=${SEED})\n`);
  });
  afterAll(async () => {
    await t.close();
    await llm.close();
  });

  it('finds operations to fuzz in the document', () => {
    expect(operations(document).length).toBeGreaterThanOrEqual(80);
  });

  it('never answers 5xx, never leaks internals, answers errors as problem+json, and refuses without writing', async () => {
    const failures: string[] = [];
    let lastFailure = '';
    for (const operation of operations(document)) {
      const name = `${operation.method} ${operation.path}`;
      const credentials =
        SELF_DESTRUCTIVE.has(name) || STREAMING.has(name)
          ? fc.constantFrom<Record<string, string>>({}, bearer('not.a.jwt'), { 'x-api-key': 'sak_nope' })
          : operation.path.includes('/scim/v2/')
            ? fc.constantFrom<Record<string, string>>(
                bearer(scimToken),
                bearer(scimToken),
                bearer(`${scimToken.slice(0, -4)}AAAA`),
                bearer(token),
                {},
              )
            : fc.constantFrom<Record<string, string>>(
                bearer(token),
                bearer(token),
                {},
                bearer(`${token.slice(0, -4)}AAAA`),
                { 'x-api-key': apiKey },
                { 'x-api-key': `${apiKey}x` },
              );
      const pathValues = fc.tuple(
        ...operation.pathParams.map((param) =>
          param === 'orgId' ? fc.oneof(fc.constant(orgId), fc.constant(orgId), weirdId) : weirdId,
        ),
      );
      const query = fc.dictionary(
        operation.queryParams.length > 0 ? fc.constantFrom(...operation.queryParams, 'extra') : fc.constant('extra'),
        fc.oneof(weirdString, fc.integer().map(String), fc.constantFrom('-1', '1e309', 'NaN', '0x10')),
        { maxKeys: 4 },
      );
      const body = fc.oneof(
        // A JSON object built from the declared fields (wrong types welcome) and extra ones.
        fc
          .tuple(
            fc.subarray(operation.bodyFields),
            fc.array(weirdValue, { minLength: operation.bodyFields.length, maxLength: operation.bodyFields.length }),
            fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), weirdValue, { maxKeys: 2 }),
          )
          .map(([fields, values, extra]) => ({
            json: JSON.stringify({ ...extra, ...Object.fromEntries(fields.map((f, i) => [f, values[i]])) }),
          })),
        // Deep nesting (arrays or objects, 100 to 5,000 levels) under a declared field or as the
        // whole body: what once overflowed class-transformer's stack.
        fc
          .tuple(
            fc.constantFrom(...operation.bodyFields, 'extra'),
            fc.integer({ min: 100, max: 5_000 }),
            fc.boolean(),
            fc.boolean(),
          )
          .map(([field, depth, objects, whole]) => ({
            json: whole ? deeplyNested(depth, objects) : `{${JSON.stringify(field)}:${deeplyNested(depth, objects)}}`,
          })),
        fc.constantFrom(
          { json: '{"unterminated": ' },
          { json: '[]' },
          { json: 'null' },
          { json: '"text"' },
          { json: '{"__proto__": {"isAdmin": true}}' },
          { json: '{"constructor": {"prototype": {"x": 1}}}' },
        ),
      );
      const contentType = fc.constantFrom(
        'application/json',
        'application/json',
        'application/scim+json',
        'text/plain',
        'application/xml',
      );
      await fc
        .assert(
          fc.asyncProperty(
            credentials,
            pathValues,
            query,
            body,
            contentType,
            async (headers, values, search, payload, type) => {
              let path = operation.path;
              operation.pathParams.forEach((param, i) => {
                path = path.replace(`{${param}}`, encodeURIComponent(String(values[i])));
              });
              const qs = new URLSearchParams(search).toString();
              const before = await digestBefore();
              known = undefined;
              const res = await t.inject({
                method: operation.method as 'GET',
                url: qs ? `${path}?${qs}` : path,
                headers: {
                  ...headers,
                  ...(operation.method === 'GET' || operation.method === 'DELETE' ? {} : { 'content-type': type }),
                },
                ...(operation.method === 'GET' ? {} : { payload: payload.json }),
              });
              const problem = `${name} ${res.statusCode} ${res.body.slice(0, 300)}`;
              if (res.statusCode >= 500) throw new Error(`5xx: ${problem}`);
              if (LEAK.test(res.body)) throw new Error(`leak: ${problem}`);
              if (res.statusCode >= 400) {
                // SCIM routes answer in SCIM's own error schema (RFC 7644 §3.12); everything else in problem+json.
                const scim = /\/scim\/v2\//.test(operation.path);
                const contentType = String(res.headers['content-type']);
                if (scim) {
                  const body = res.json<{ schemas?: unknown; status?: unknown }>();
                  if (!contentType.startsWith('application/scim+json') || body.status !== String(res.statusCode)) {
                    throw new Error(`not a SCIM error: ${problem}`);
                  }
                } else if (!contentType.startsWith('application/problem+json')) {
                  throw new Error(`not problem+json: ${problem}`);
                }
                const after = await fingerprint();
                if (after !== before) throw new Error(`wrote on ${res.statusCode}: ${problem}`);
                known = after;
              }
            },
          ),
          { seed: SEED, numRuns: RUNS, endOnFailure: true },
        )
        .catch((error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
          const replay = /\{ seed: .*?\}/.exec(message)?.[0] ?? message.slice(0, 300);
          const other = message.split('\n')[0] ?? '';
          failures.push(`${name}: ${lastFailure || cause.slice(0, 400) || other} ${replay}`);
          lastFailure = '';
        });
    }
    expect(failures).toEqual([]);
    // The fuzzer's own credentials survived (so later operations were really tried with them).
    expect((await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) })).statusCode).toBe(200);
  }, 600_000);
});
