import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ILike } from 'typeorm';
import { PageQueryDto } from './page-query.dto';

export type SortDirection = 'ASC' | 'DESC';

/** A list query's `sort`: a field, or `-field` for descending. */
export interface Sorted {
  sort: string;
}

/**
 * `?page&pageSize&sort=` for a resource list: `sort` is one of the given fields, `-` in front for
 * descending. Extend the returned class with the resource's own filters.
 */
export function listQuery<const F extends string>(fields: readonly F[], defaultSort: F | `-${F}`) {
  const allowed = [...fields, ...fields.map((field) => `-${field}`)];
  class ListQuery extends PageQueryDto implements Sorted {
    @ApiPropertyOptional({
      enum: allowed,
      default: defaultSort,
      description: 'A field; `-` in front sorts descending.',
    })
    @IsOptional()
    @IsIn(allowed)
    sort: string = defaultSort;
  }
  return ListQuery;
}

/** TypeORM `order` for a `sort` value, with the id as tie-breaker so pages never overlap. */
export function orderFor(sort: string): Record<string, SortDirection> {
  const descending = sort.startsWith('-');
  const field = descending ? sort.slice(1) : sort;
  return { [field]: descending ? 'DESC' : 'ASC', ...(field === 'id' ? {} : { id: 'ASC' }) };
}

/** A case-insensitive "contains" filter; `%` and `_` in the text match themselves. */
export function containing(text: string) {
  return ILike(`%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`);
}
