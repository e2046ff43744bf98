import 'reflect-metadata';
import { PartialType } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, Min, MinLength, getMetadataStorage } from 'class-validator';
import { PageQueryDto } from '../../../apps/api/src/common/page-query.dto';
import { CreateTeamDto, UpdateTeamDto } from '../../../apps/api/src/teams/dto/team.dto';
import { AddMemberDto } from '../../../apps/api/src/members/dto/member.dto';
import { createValidationPipe, memoizeValidationMetadata } from './validation';
import { ValidationProblemException } from './problem-details';

type Lookup = (target: unknown, schema?: string, always?: boolean, strict?: boolean, groups?: string[]) => unknown[];
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

class PartialDerived extends PartialType(Derived) {}

const OPTIONS: Array<[string | undefined, boolean, boolean, string[] | undefined]> = [
  [undefined, false, false, undefined],
  [undefined, true, false, undefined],
  [undefined, false, true, undefined],
  [undefined, false, true, ['admin']],
  [undefined, false, false, ['admin', 'other']],
];

describe('memoizeValidationMetadata', () => {
  beforeAll(() => memoizeValidationMetadata());

  it('answers exactly what class-validator answers, for every class with rules and every option shape', () => {
    const targets = [...storage.validationMetadatas.keys()].filter((target) => typeof target === 'function');
    // The spec's classes, a mapped type and real DTOs of the api.
    // PartialType's rules are kept on the class it makes (PartialDerived's parent).
    for (const dto of [
      Base,
      Derived,
      Object.getPrototypeOf(PartialDerived),
      PageQueryDto,
      CreateTeamDto,
      UpdateTeamDto,
      AddMemberDto,
    ]) {
      expect(targets).toContain(dto);
    }
    let compared = 0;
    for (const target of targets) {
      for (const options of OPTIONS) {
        const memoized = storage.getTargetValidationMetadatas(target, ...options);
        expect(memoized).toEqual(original(target, ...options));
        // Asked again: the kept answer, still the same.
        expect(storage.getTargetValidationMetadatas(target, ...options)).toEqual(memoized);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(7 * OPTIONS.length);
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

  it('is installed once, however often the pipe is made', () => {
    memoizeValidationMetadata();
    createValidationPipe();
    const installed = storage.getTargetValidationMetadatas;
    createValidationPipe();
    expect(storage.getTargetValidationMetadatas).toBe(installed);
  });

  it('leaves the pipe deciding as before: defaults, conversions and refusals naming the field', async () => {
    const pipe = createValidationPipe();
    const page = (await pipe.transform({}, { type: 'query', metatype: PageQueryDto })) as PageQueryDto;
    expect(page).toBeInstanceOf(PageQueryDto);
    expect({ ...page }).toEqual({ page: 1, pageSize: 20 });
    await expect(pipe.transform({ page: '3' }, { type: 'query', metatype: PageQueryDto })).resolves.toEqual(
      Object.assign(new PageQueryDto(), { page: 3 }),
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
