import { ValidationPipe, type ValidationError } from '@nestjs/common';
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

/** The global pipe: unknown fields are refused, types are converted, errors are problem+json. */
export function createValidationPipe(): ValidationPipe {
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
