import { ProblemException } from '@app/common';
import { HttpStatus } from '@nestjs/common';

/** 403 /problems/permission-denied, listing what the caller lacks. */
export function permissionDenied(missing: string[], detail: string): ProblemException {
  return new ProblemException({
    status: HttpStatus.FORBIDDEN,
    slug: 'permission-denied',
    title: 'Forbidden',
    detail,
    extensions: { missingPermissions: missing },
  });
}
