import { NO_CONTROL_CHARACTERS, SLUG_PATTERN, spoofingCharacter } from '@app/common';
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
  ValidateBy,
  ValidateIf,
  type ValidationArguments,
} from 'class-validator';

/**
 * For a partial update: the field may be left out, but not sent as null (class-validator's
 * @IsOptional lets null through, which would reach a NOT NULL column).
 */
export function OmittableField(): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined);
}

/** Trimmed and NFC-normalised: the same letters are stored as the same code points. */
const trimNfc = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.normalize('NFC').trim() : value);

/**
 * Text other people will see (names, descriptions): no bidirectional overrides or invisible
 * characters (see spoofingCharacter), so what it shows is what it says.
 */
export function NoSpoofing(): PropertyDecorator {
  return ValidateBy({
    name: 'noSpoofing',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || spoofingCharacter(value) === undefined,
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property ?? 'value'} must not contain invisible or direction-changing characters`,
    },
  });
}

/** A display name: NFC, trimmed, 1-200 characters, no control, invisible or direction-changing characters. */
export function DisplayNameField(): PropertyDecorator {
  return applyDecorators(
    Transform(trimNfc),
    IsString(),
    MinLength(1),
    MaxLength(200),
    Matches(NO_CONTROL_CHARACTERS, { message: '$property must not contain control characters' }),
    NoSpoofing(),
  );
}

/** An email address: trimmed and lower-cased (addresses are compared case-insensitively), at most 320 characters. */
export function EmailField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ example: 'ann@example.com', maxLength: 320 }),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value)),
    IsEmail({}, { message: '$property must be an email address' }),
    // validator's isEmail lets direction-changing and invisible characters through, in both parts.
    NoSpoofing(),
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
