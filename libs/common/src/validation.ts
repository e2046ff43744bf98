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
interface LookupStorage {
  getTargetValidationMetadatas: MetadataLookup;
  addValidationMetadata: (...args: unknown[]) => unknown;
  [MEMOIZED]?: true;
}
const MEMOIZED = Symbol('memoized');

/**
 * class-validator looks up a class's validation rules on every validate() call, and the lookup
 * walks every class that has rules (an `instanceof` each, for inherited rules): several hundred
 * in this api, for every body and query validated. The rules only change when a decorator runs
 * (when a module loads, or a mapped type is made), so the answers are kept per class and
 * options until the next rule is added. Each call gets its own copy of the list. Arguments of
 * an unexpected shape are passed through uncached.
 */
export function memoizeValidationMetadata(): void {
  const storage = getMetadataStorage() as unknown as LookupStorage;
  if (storage[MEMOIZED] || typeof storage.getTargetValidationMetadatas !== 'function') return;
  const lookup = storage.getTargetValidationMetadatas.bind(storage);
  const add = storage.addValidationMetadata.bind(storage);
  let answers = new Map<unknown, Map<string, unknown[]>>();
  storage.getTargetValidationMetadatas = (target, ...rest) => {
    const key = optionsKey(rest);
    if (key === undefined) return lookup(target, ...rest);
    let byOptions = answers.get(target);
    if (!byOptions) answers.set(target, (byOptions = new Map<string, unknown[]>()));
    let answer = byOptions.get(key);
    if (!answer) byOptions.set(key, (answer = lookup(target, ...rest)));
    return answer.slice();
  };
  storage.addValidationMetadata = (...args) => {
    answers = new Map();
    return add(...args);
  };
  storage[MEMOIZED] = true;
}

/** (schema name, always, strictGroups, groups) as one string; undefined for anything else. */
function optionsKey([schema, always, strictGroups, groups, ...more]: unknown[]): string | undefined {
  if (more.length > 0) return undefined;
  // The global pipe's options: the key every request uses.
  if (schema === undefined && !always && !strictGroups && groups === undefined) return '';
  if (schema !== undefined && schema !== null && typeof schema !== 'string') return undefined;
  if (groups !== undefined && !(Array.isArray(groups) && groups.every((group) => typeof group === 'string')))
    return undefined;
  return JSON.stringify([schema ?? null, always === true, strictGroups === true, groups ?? null]);
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
