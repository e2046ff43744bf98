import { NO_CONTROL_CHARACTERS, SLUG_PATTERN } from '@app/common';
import { applyDecorators, type Type } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsEmail,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
} from 'class-validator';

/**
 * For a partial update: the field may be left out, but not sent as null (class-validator's
 * @IsOptional lets null through, which would reach a NOT NULL column).
 */
export function OmittableField(): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined);
}

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** A display name: trimmed, 1-200 characters, no control characters. */
export function DisplayNameField(): PropertyDecorator {
  return applyDecorators(
    Transform(trim),
    IsString(),
    MinLength(1),
    MaxLength(200),
    Matches(NO_CONTROL_CHARACTERS, { message: '$property must not contain control characters' }),
  );
}

/** An email address: trimmed and lower-cased (addresses are compared case-insensitively), at most 320 characters. */
export function EmailField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ example: 'ann@example.com', maxLength: 320 }),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value)),
    IsEmail({}, { message: '$property must be an email address' }),
    MaxLength(320),
  );
}

/** A list of role ids: at most 20, no repeats, each a UUID (which roles fit is the service's check). */
export function RoleIdsField(): PropertyDecorator {
  return applyDecorators(
    IsArray(),
    ArrayMaxSize(20),
    ArrayUnique(),
    IsUUID('all', { each: true, message: 'each roleId must be a UUID' }),
  );
}

/** A URL slug: lower-case letters, digits and inner dashes, 1-100 characters. */
export function SlugField(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    Matches(SLUG_PATTERN, {
      message: '$property must be lower-case letters, digits and inner dashes (1-100 characters)',
    }),
  );
}

/** The `{ items, total, page, pageSize }` envelope of a list, documented for `item`. */
export function pageOf<T>(item: Type<T>) {
  class Page {
    @ApiProperty({ type: [item] })
    items!: T[];

    @ApiProperty()
    total!: number;

    @ApiProperty()
    page!: number;

    @ApiProperty()
    pageSize!: number;
  }
  // OpenAPI schemas are named after the class: one per item type.
  Object.defineProperty(Page, 'name', { value: `${item.name.replace(/Dto$/, '')}PageDto` });
  return Page;
}
