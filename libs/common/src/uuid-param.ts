import { Param, ParseUUIDPipe } from '@nestjs/common';
import { ValidationProblemException } from './problem-details';

/** A route parameter that must be a UUID; anything else is a 400 naming the parameter. */
export function UuidParam(name: string): ParameterDecorator {
  return Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () => new ValidationProblemException([{ field: name, message: `${name} must be a UUID` }]),
    }),
  );
}
