import type { FindOptionsSelect } from 'typeorm';

/** The columns a response is made of: a find's `select`, and (through ShownRow) the row type its `from` takes. */
export interface Shown<E, K extends keyof E> {
  readonly fields: readonly K[];
  readonly select: FindOptionsSelect<E>;
}

/** The row a `from(row)` may read: only the shown fields, so reading another one is a type error. */
export type ShownRow<S> = S extends Shown<infer E, infer K> ? Pick<E, K> : never;

/**
 * `shown<ApiKey>()('id', 'name', …)`: the fields a list shows, for a find's `select`, so a column
 * the response does not carry (a key's hash, a sealed secret, a password hash) is never read to
 * build it.
 */
export function shown<E>() {
  return <const K extends keyof E & string>(...fields: K[]): Shown<E, K> => ({
    fields,
    select: Object.fromEntries(fields.map((field) => [field, true])) as FindOptionsSelect<E>,
  });
}
