import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** Past this a page is refused by name, not left to the database's range checks (`1e20` is an integer). */
export const MAX_PAGE_NUMBER = 1_000_000;

/** `?page=1&pageSize=20`: 1-based pages, at most 100 items each, at most MAX_PAGE_NUMBER pages in. */
export class PageQueryDto {
  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: MAX_PAGE_NUMBER })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_NUMBER)
  page = 1;

  @ApiPropertyOptional({ default: 20, minimum: 1, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  pageSize = 20;
}

/**
 * Where a page starts: `offset` when a caller reads by position (GraphQL's cursors), else the
 * page's first row. `offset` is never read from a request (it is not a validated field).
 */
export function skipOf(query: { page: number; pageSize: number; offset?: number }): number {
  return query.offset ?? (query.page - 1) * query.pageSize;
}

/** Some rows of a list, from an offset, and how many the list has. */
export interface Slice<T> {
  items: T[];
  total: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}
