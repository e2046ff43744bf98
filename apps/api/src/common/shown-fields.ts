import { NotFoundException } from '@nestjs/common';
import type { EntityManager, EntityTarget, FindOptionsSelect, FindOptionsWhere } from 'typeorm';

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

/**
 * One of the organization's rows by id, reading only the shown fields; 404 with `missing` when
 * there is none (GET by id of a listed resource). Run it inside the organization's unit of work.
 */
export async function findShown<E extends { id: string; organizationId: string }, K extends keyof E>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  fields: Shown<E, K>,
  organizationId: string,
  id: string,
  missing: string,
): Promise<Pick<E, K>> {
  const row = await manager.findOne(entity, {
    select: fields.select,
    where: { id, organizationId } as FindOptionsWhere<E>,
  });
  if (!row) throw new NotFoundException(missing);
  return row;
}
