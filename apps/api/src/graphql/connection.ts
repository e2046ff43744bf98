import { ValidationProblemException } from '@app/common';
import { Field, Int, ObjectType } from '@nestjs/graphql';
import type { Type } from '@nestjs/common';
import type { Slice } from '../common/page-query.dto';

/** Page sizes a list accepts (`first`), and what it returns when the client names none. */
export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

@ObjectType({ description: 'Where a page sits in its list (Relay cursor connections).' })
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field()
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** A Relay connection type named `<name>Connection`, with `<name>Edge` edges. */
export function connectionOf<T>(node: Type<T>, name: string): Type<Connection<T>> {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field({ description: 'Pass as `after` to read on from this row.' })
    cursor!: string;

    @Field(() => node)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionType {
    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int, { description: 'Rows in the whole list, not only this page.' })
    totalCount!: number;
  }
  return ConnectionType;
}

/**
 * Cursors are opaque to clients; today they carry the row's position in the list's stable order
 * (oldest first, then id). A row added or removed before the cursor shifts what follows by one,
 * as with REST's pages.
 */
function encodeCursor(position: number): string {
  return Buffer.from(`p:${position}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^p:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1])
    throw new ValidationProblemException([{ field: 'after', message: 'after is not a cursor of this list' }]);
  return Number(match[1]);
}

/** `first`/`after` as an offset and limit; bad values are the client's error, naming the argument. */
export function window(
  first: number | null | undefined,
  after: string | null | undefined,
): { offset: number; limit: number } {
  const limit = first ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new ValidationProblemException([{ field: 'first', message: `first must be between 1 and ${MAX_PAGE}` }]);
  }
  return { offset: after ? decodeCursor(after) + 1 : 0, limit };
}

export function toConnection<T, N>(slice: Slice<T>, offset: number, toNode: (item: T) => N): Connection<N> {
  const edges = slice.items.map((item, index) => ({ cursor: encodeCursor(offset + index), node: toNode(item) }));
  return {
    edges,
    totalCount: slice.total,
    pageInfo: {
      hasNextPage: offset + edges.length < slice.total,
      hasPreviousPage: offset > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
