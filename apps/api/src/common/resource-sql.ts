import { FindOperator, type EntityMetadata, type FindOptionsWhere } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { SortDirection } from './list-query';

/**
 * Column types whose value the pg driver hands over exactly as TypeORM would hydrate it (TypeORM
 * changes nothing for these: no date-to-string, no simple-json parsing, no transformer). A column
 * of any other type (date, time, simple-array, simple-json, hstore, …), an array column or one
 * with a transformer keeps the resource on TypeORM's find, which knows how to hydrate it.
 */
const RAW_TYPES = new Set<unknown>([
  String,
  Number,
  Boolean,
  Date,
  'uuid',
  'varchar',
  'character varying',
  'text',
  'citext',
  'int',
  'integer',
  'int4',
  'smallint',
  'int2',
  'bigint',
  'int8',
  'boolean',
  'bool',
  'timestamp',
  'timestamptz',
  'timestamp with time zone',
  'timestamp without time zone',
  'jsonb',
  'json',
  'numeric',
  'decimal',
  'real',
  'float4',
  'double precision',
  'float8',
]);

/** How many distinct filter-and-sort shapes a resource keeps compiled; past that, each is built per call. */
const MAX_SHAPES = 64;

/** One compiled page read: its texts and the parameters in their order. */
export interface CompiledPage {
  /** The page and, in every row, the number of matching rows (`__total`). */
  page: string;
  /** The number of matching rows alone, for a page past the last one. */
  count: string;
  /** The filters' values ($1…$n); the page's text adds LIMIT $n+1 OFFSET $n+2. */
  parameters: unknown[];
}

interface Condition {
  column: ColumnMetadata;
  kind: 'equal' | 'in' | 'ilike' | 'isNull';
  value?: unknown;
}

/**
 * The reads every organization-owned resource makes on each request (a page of its list, one row
 * by id) as SQL built once from the entity's metadata, sent on the unit of work's own connection:
 * TypeORM's find builds the same statement again on every call (and a page costs it two, the rows
 * and a COUNT(DISTINCT …)). Only what the find would return is selected: the entity's own columns
 * under their property names, never a column marked `select: false`.
 *
 * It covers the filters TenantResources and its subclasses use (a value, `In`, `ILike`, `IsNull`)
 * and plain columns. For anything else `compile` answers null and the caller uses TypeORM's find,
 * so a module with a filter or a column this does not know stays correct, only not faster.
 */
export class ResourceSql {
  private readonly shapes = new Map<string, { page: string; count: string }>();

  private constructor(
    private readonly metadata: EntityMetadata,
    private readonly table: string,
    private readonly columns: readonly ColumnMetadata[],
    /** The selected columns, `"column" AS "property"`, joined. */
    private readonly selectList: string,
    /** The properties a row carries, in selection order. */
    readonly properties: readonly string[],
    /** SELECT … WHERE id = $1 AND organization_id = $2. */
    readonly byIdSql: string,
  ) {}

  /** Null when the entity has something these reads would hydrate differently from TypeORM. */
  static of(metadata: EntityMetadata): ResourceSql | null {
    if (metadata.tableType !== 'regular' || metadata.deleteDateColumn || metadata.discriminatorColumn) return null;
    // What TypeORM's find does after loading a row, which these reads would skip: eager and lazy
    // relations, relation ids, @AfterLoad listeners. (Subscribers, which may hear afterLoad, are
    // checked on every read by TenantResources: one can be registered later.)
    if (
      metadata.eagerRelations.length > 0 ||
      metadata.lazyRelations.length > 0 ||
      metadata.relationIds.length > 0 ||
      metadata.afterLoadListeners.length > 0
    )
      return null;
    const id = metadata.findColumnWithPropertyName('id');
    const org = metadata.findColumnWithPropertyName('organizationId');
    if (!id || !org || metadata.primaryColumns.length !== 1 || metadata.primaryColumns[0] !== id) return null;
    const columns: ColumnMetadata[] = [];
    for (const column of metadata.columns) {
      // A join column with no property of its own (`organization` without `organizationId`):
      // TypeORM's find does not put it on the entity either.
      if (column.isVirtual || (column.relationMetadata && column.propertyName === column.relationMetadata.propertyName))
        continue;
      if (!column.isSelect) continue;
      if (
        column.embeddedMetadata ||
        column.isArray ||
        column.transformer ||
        column.isVirtualProperty ||
        !RAW_TYPES.has(column.type)
      )
        return null;
      columns.push(column);
    }
    const selectList = columns
      .map((column) => `${quote(column.databaseName)} AS ${quote(column.propertyName)}`)
      .join(', ');
    const table = metadata.tablePath.split('.').map(quote).join('.');
    const byIdSql = `SELECT ${selectList} FROM ${table} WHERE ${quote(id.databaseName)} = $1 AND ${quote(org.databaseName)} = $2`;
    return new ResourceSql(
      metadata,
      table,
      columns,
      selectList,
      columns.map((column) => column.propertyName),
      byIdSql,
    );
  }

  /**
   * The page read for `where` (whose values may be plain values, `In`, `ILike` or `IsNull`) in
   * `order` (property → direction); null when `where` or `order` has anything else.
   */
  compile(where: FindOptionsWhere<object>, order: Record<string, SortDirection>): CompiledPage | null {
    const conditions: Condition[] = [];
    // Sorted, so the same filters in another order are one shape (and one cached text).
    for (const property of Object.keys(where).sort()) {
      const value = (where as Record<string, unknown>)[property];
      // TypeORM refuses an undefined filter by default (invalidWhereValuesBehavior): its call, not
      // a silently wider page.
      if (value === undefined) return null;
      const column = this.metadata.findColumnWithPropertyName(property);
      if (!column || !this.columns.includes(column)) return null;
      const condition = conditionOf(column, value);
      if (!condition) return null;
      conditions.push(condition);
    }
    const sorts: Array<[ColumnMetadata, SortDirection]> = [];
    for (const [property, direction] of Object.entries(order)) {
      const column = this.metadata.findColumnWithPropertyName(property);
      if (!column || !this.columns.includes(column) || (direction !== 'ASC' && direction !== 'DESC')) return null;
      sorts.push([column, direction]);
    }
    const shape = `${conditions.map((c) => `${c.column.propertyName}:${c.kind}`).join(',')}|${sorts
      .map(([column, direction]) => `${column.propertyName}:${direction}`)
      .join(',')}`;
    let texts = this.shapes.get(shape);
    if (!texts) {
      texts = this.texts(conditions, sorts);
      if (this.shapes.size < MAX_SHAPES) this.shapes.set(shape, texts);
    }
    const parameters = conditions.filter((c) => c.kind !== 'isNull').map((c) => c.value);
    return { ...texts, parameters };
  }

  /**
   * A row as TypeORM's find hydrates it: the entity made the way TypeORM makes it when it loads a
   * row (`metadata.create`: its constructor, as this TypeORM version always uses it), then the
   * selected properties (the window's total is left behind).
   */
  entityOf<E>(row: Record<string, unknown>): E {
    const entity = this.metadata.create(undefined, { fromDeserializer: true }) as Record<string, unknown>;
    for (const property of this.properties) entity[property] = row[property];
    return entity as E;
  }

  private texts(conditions: readonly Condition[], sorts: ReadonlyArray<[ColumnMetadata, SortDirection]>) {
    let next = 0;
    const predicates = conditions.map(({ column, kind }) => {
      const name = quote(column.databaseName);
      if (kind === 'isNull') return `${name} IS NULL`;
      next += 1;
      if (kind === 'in') return `${name} = ANY($${next})`;
      if (kind === 'ilike') return `${name} ILIKE $${next}`;
      return `${name} = $${next}`;
    });
    const whereSql = predicates.length > 0 ? ` WHERE ${predicates.join(' AND ')}` : '';
    const orderSql =
      sorts.length > 0
        ? ` ORDER BY ${sorts.map(([column, direction]) => `${quote(column.databaseName)} ${direction}`).join(', ')}`
        : '';
    return {
      page: `SELECT ${this.selectList}, count(*) OVER () AS "__total" FROM ${this.table}${whereSql}${orderSql} LIMIT $${next + 1} OFFSET $${next + 2}`,
      count: `SELECT count(*) AS "__total" FROM ${this.table}${whereSql}`,
    };
  }
}

/** A where value as a condition these reads know; null for anything else (TypeORM's find then). */
function conditionOf(column: ColumnMetadata, value: unknown): Condition | null {
  if (value instanceof FindOperator) {
    const operator = value as FindOperator<unknown>;
    if (operator.type === 'isNull') return { column, kind: 'isNull' };
    // An operator around another (ILike(Not(…))) is TypeORM's to build.
    if (operator.child !== undefined) return null;
    if (operator.type === 'in' && Array.isArray(operator.value) && operator.value.every(isScalar))
      return { column, kind: 'in', value: operator.value };
    if (operator.type === 'ilike' && typeof operator.value === 'string')
      return { column, kind: 'ilike', value: operator.value };
    if (operator.type === 'equal' && isScalar(operator.value)) return { column, kind: 'equal', value: operator.value };
    return null;
  }
  // null is left to TypeORM (its `invalidWhereValuesBehavior` decides what it means); objects are
  // relation filters or operators this does not know.
  return isScalar(value) ? { column, kind: 'equal', value } : null;
}

function isScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date;
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
