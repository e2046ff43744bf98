import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { GraphqlConfig } from '@app/config';
import mercurius, { type PersistedQueryProvider } from 'mercurius';

const sha256 = (document: string) => createHash('sha256').update(document, 'utf8').digest('hex');

/** How a request names its document in Apollo's persisted-query protocol. */
interface PersistedRequest {
  query?: string;
  extensions?: { persistedQuery?: { version?: number; sha256Hash?: string } };
}

/**
 * The allowed documents from GRAPHQL_ALLOWED_OPERATIONS_FILE: a JSON array of documents, or an
 * object of SHA-256 (hex) to document as persisted-query tools write it (each hash is checked).
 * A file that cannot be read or does not hold that stops the start-up with the reason.
 */
export function readAllowList(file: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(
      `GRAPHQL_ALLOWED_OPERATIONS_FILE: ${file} is not readable JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const entries: Array<[string | undefined, unknown]> = Array.isArray(parsed)
    ? parsed.map((document) => [undefined, document])
    : typeof parsed === 'object' && parsed !== null
      ? Object.entries(parsed)
      : [];
  if (entries.length === 0) {
    throw new Error(`GRAPHQL_ALLOWED_OPERATIONS_FILE: ${file} holds no documents (an array, or hash → document)`);
  }
  const allowed = new Map<string, string>();
  for (const [hash, document] of entries) {
    if (typeof document !== 'string' || !document.trim()) {
      throw new Error(`GRAPHQL_ALLOWED_OPERATIONS_FILE: ${file}: every document must be a non-empty string`);
    }
    const actual = sha256(document);
    if (hash !== undefined && hash.toLowerCase() !== actual) {
      throw new Error(`GRAPHQL_ALLOWED_OPERATIONS_FILE: ${file}: ${hash} is not the SHA-256 of its document`);
    }
    allowed.set(actual, document);
  }
  return allowed;
}

/**
 * An allow-list: a request runs only if its document is on the list, named by its SHA-256 in
 * `extensions.persistedQuery` (Apollo's protocol, so the usual clients work) or sent whole. Any
 * other document is refused before it is parsed.
 */
function allowListProvider(allowed: Map<string, string>): PersistedQueryProvider {
  return {
    isPersistedQuery: () => true,
    // The list is fixed: nothing a client sends is ever added to it.
    isPersistedQueryRetry: () => false,
    getHash: (request) => {
      const { query, extensions } = request as PersistedRequest;
      const persisted = extensions?.persistedQuery;
      if (persisted?.version === 1 && typeof persisted.sha256Hash === 'string')
        return persisted.sha256Hash.toLowerCase();
      // Empty: neither a hash nor a document (mercurius answers notSupportedError).
      return typeof query === 'string' ? sha256(query) : '';
    },
    getQueryFromHash: (hash) => Promise.resolve(allowed.get(hash)),
    notFoundError: 'This operation is not on the allow-list (GRAPHQL_PERSISTED_QUERIES=allow-list).',
    notSupportedError: 'Send an allowed document, or its SHA-256 in extensions.persistedQuery.',
  };
}

/** The mercurius options for GRAPHQL_PERSISTED_QUERIES. */
export function persistedQueryOptions(config: GraphqlConfig): { persistedQueryProvider?: PersistedQueryProvider } {
  switch (config.persistedQueries) {
    case 'automatic':
      // Hashes are cached per process (at most 1,024, least recently used out): a client that
      // meets another replica sends the document once more, as the protocol expects.
      return { persistedQueryProvider: mercurius.persistedQueryDefaults.automatic(1024) };
    case 'allow-list':
      return { persistedQueryProvider: allowListProvider(readAllowList(config.allowedOperationsFile ?? '')) };
    default:
      return {};
  }
}
