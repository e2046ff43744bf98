import 'reflect-metadata';
import { PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min, MinLength, getMetadataStorage } from 'class-validator';
import { createValidationPipe, memoizeValidationMetadata } from './validation';
import { ValidationProblemException } from './problem-details';

type Lookup = (
  target: unknown,
  schema?: string | null,
  always?: unknown,
  strict?: unknown,
  groups?: string[],
) => unknown[];
const storage = getMetadataStorage() as unknown as {
  getTargetValidationMetadatas: Lookup;
  validationMetadatas: Map<unknown, unknown[]>;
};
// The lookup as class-validator ships it, taken before the memo is installed.
const original: Lookup = storage.getTargetValidationMetadatas.bind(storage);

class Base {
  @IsString()
  name!: string;

  @IsInt()
  @Min(1)
  @IsOptional()
  size?: number;
}

class Derived extends Base {
  // Overrides the base's rule for the same property.
  @IsString()
  @MinLength(3)
  override name = '';

  @IsString({ groups: ['admin'] })
  note?: string;

  @Max(10, { always: true })
  level!: number;
}

/** A page query like the api's: defaults, a conversion and bounds. */
class PageQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  page = 1;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  pageSize = 20;
}

// A mapped type made before the memo is installed.
class PartialDerived extends PartialType(Derived) {}

/**
 * Option shapes as callers pass them: the pipe's (all unset), mapped types' (null schema, false),
 * groups in either order, and truthy values that are not booleans (class-validator reads any
 * truthy value as on), each after the plain shape it must not be taken for.
 */
const OPTIONS: Array<Parameters<Lookup> extends [unknown, ...infer Rest] ? Rest : never> = [
  [undefined, undefined, undefined, undefined],
  [null, false, false],
  [undefined, true, false, undefined],
  [undefined, false, true, undefined],
  [undefined, false, true, ['admin']],
  [undefined, false, false, ['admin', 'other']],
  [undefined, false, false, ['other', 'admin']],
  [undefined, 1, false, ['admin']],
  [undefined, false, 'yes', ['admin']],
];

describe('memoizeValidationMetadata', () => {
  beforeAll(() => memoizeValidationMetadata());

  it('answers exactly what class-validator answers, for every class with rules and every option shape', () => {
    const targets = [...storage.validationMetadatas.keys()].filter((target) => typeof target === 'function');
    // PartialType's rules are kept on the class it makes (PartialDerived's parent).
    for (const type of [Base, Derived, PageQuery, Object.getPrototypeOf(PartialDerived)]) {
      expect(targets).toContain(type);
    }
    for (const target of [...targets, PartialDerived]) {
      for (const options of OPTIONS) {
        const memoized = storage.getTargetValidationMetadatas(target, ...options);
        expect({ target, options, rules: memoized }).toEqual({ target, options, rules: original(target, ...options) });
        // Asked again: the kept answer, still the same.
        expect(storage.getTargetValidationMetadatas(target, ...options)).toEqual(memoized);
      }
    }
  });

  it('gives every caller its own list', () => {
    const first = storage.getTargetValidationMetadatas(Derived);
    const length = first.length;
    first.length = 0;
    expect(storage.getTargetValidationMetadatas(Derived)).toHaveLength(length);
  });

  it('sees a rule added after an answer was kept, on the class and on classes that inherit it', () => {
    class Late {
      @IsString()
      first!: string;
      second?: unknown;
    }
    class LateChild extends Late {}
    const before = storage.getTargetValidationMetadatas(Late).length;
    const childBefore = storage.getTargetValidationMetadatas(LateChild).length;
    IsInt()(Late.prototype, 'second');
    expect(storage.getTargetValidationMetadatas(Late)).toHaveLength(before + 1);
    expect(storage.getTargetValidationMetadatas(LateChild)).toHaveLength(childBefore + 1);
    expect(storage.getTargetValidationMetadatas(Late)).toEqual(original(Late));
  });

  it('sees the rules of a mapped type made after answers were kept', () => {
    storage.getTargetValidationMetadatas(Derived, null, false, false);
    class LaterPartial extends PartialType(Derived) {}
    const rules = storage.getTargetValidationMetadatas(LaterPartial);
    expect(rules.length).toBeGreaterThan(0);
    expect(rules).toEqual(original(LaterPartial));
  });

  it('is installed once, however often the pipe is made', () => {
    memoizeValidationMetadata();
    createValidationPipe();
    const installed = storage.getTargetValidationMetadatas;
    createValidationPipe();
    expect(storage.getTargetValidationMetadatas).toBe(installed);
  });

  it('leaves the pipe deciding as before: defaults, conversions and refusals naming the field', async () => {
    const pipe = createValidationPipe();
    const page = (await pipe.transform({}, { type: 'query', metatype: PageQuery })) as PageQuery;
    expect(page).toBeInstanceOf(PageQuery);
    expect({ ...page }).toEqual({ page: 1, pageSize: 20 });
    await expect(pipe.transform({ page: '3' }, { type: 'query', metatype: PageQuery })).resolves.toEqual(
      Object.assign(new PageQuery(), { page: 3 }),
    );
    const fieldsRefused = async () => {
      const refused: unknown = await pipe
        .transform({ name: 'ab', level: 11, extra: 1 }, { type: 'body', metatype: Derived })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(refused).toBeInstanceOf(ValidationProblemException);
      return ((refused as ValidationProblemException).problem.errors ?? []).map(({ field }) => field).sort();
    };
    const memoized = await fieldsRefused();
    expect(memoized).toEqual(expect.arrayContaining(['extra', 'level', 'name']));
    // The same refusal with class-validator's own lookup put back.
    const installed = storage.getTargetValidationMetadatas;
    storage.getTargetValidationMetadatas = original;
    try {
      expect(await fieldsRefused()).toEqual(memoized);
    } finally {
      storage.getTargetValidationMetadatas = installed;
    }
    await expect(
      pipe.transform({ name: 'abc', level: 2, note: 'n' }, { type: 'body', metatype: PartialDerived }),
    ).resolves.toBeInstanceOf(PartialDerived);
  });
});
