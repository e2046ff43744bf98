import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { ValidationProblemException, type FieldError } from './problem-details';

/** Flattens class-validator's tree into `[{ field: 'address.city', message }]`. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const result: FieldError[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      result.push({
        field,
        message: error.constraints?.whitelistValidation === message ? `${field} is not an accepted field` : message,
      });
    }
    if (error.children && error.children.length > 0) result.push(...flattenValidationErrors(error.children, field));
  }
  return result;
}

type MetadataLookup = (target: unknown, ...rest: unknown[]) => unknown[];
const MEMOIZED = Symbol.for('saas.validation-metadata-memo');
interface LookupStorage {
  getTargetValidationMetadatas: MetadataLookup;
  addValidationMetadata: (...args: unknown[]) => unknown;
  [MEMOIZED]?: true;
}

/**
 * class-validator looks up a class's validation rules on every validate() call, and the lookup
 * walks every class that has rules (an `instanceof` on each, for inherited rules): 74 classes in
 * this api, for every body and query validated. The rules only change when one is added (a
 * decorator runs as a module loads, or a mapped type is made), so the answers are kept per class
 * and options until any rule is added. Each call gets its own copy of the list. Classes are held
 * weakly; a target that is not a class, or options of an unexpected shape, are looked up uncached.
 */
export function memoizeValidationMetadata(): void {
  const storage = getMetadataStorage() as unknown as LookupStorage;
  if (storage[MEMOIZED] || typeof storage.getTargetValidationMetadatas !== 'function') return;
  const lookup = storage.getTargetValidationMetadatas.bind(storage);
  const add = storage.addValidationMetadata.bind(storage);
  let answers = new WeakMap<object, Map<string, unknown[]>>();
  storage.getTargetValidationMetadatas = (target, ...rest) => {
    const key = typeof target === 'function' ? optionsKey(rest) : undefined;
    if (key === undefined) return lookup(target, ...rest);
    const type = target as object;
    let byOptions = answers.get(type);
    if (!byOptions) answers.set(type, (byOptions = new Map<string, unknown[]>()));
    let answer = byOptions.get(key);
    if (!answer) byOptions.set(key, (answer = lookup(target, ...rest)));
    return answer.slice();
  };
  storage.addValidationMetadata = (...args) => {
    answers = new WeakMap();
    return add(...args);
  };
  storage[MEMOIZED] = true;
}

/**
 * (schema name, always, strictGroups, groups) as one string, with always and strictGroups read
 * as class-validator reads them (any truthy value is on); undefined for any other shape.
 */
function optionsKey([schema, always, strictGroups, groups, ...more]: unknown[]): string | undefined {
  if (more.length > 0) return undefined;
  // The global pipe's options: the key every request uses.
  if (schema === undefined && !always && !strictGroups && groups === undefined) return '';
  if (schema !== undefined && schema !== null && typeof schema !== 'string') return undefined;
  if (groups !== undefined && !(Array.isArray(groups) && groups.every((group) => typeof group === 'string')))
    return undefined;
  return JSON.stringify([schema ?? null, Boolean(always), Boolean(strictGroups), groups ?? null]);
}

/** The global pipe: unknown fields are refused, types are converted, errors are problem+json. */
export function createValidationPipe(): ValidationPipe {
  memoizeValidationMetadata();
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationProblemException(flattenValidationErrors(errors)),
  });
}
