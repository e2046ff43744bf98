import { newId } from '@app/common';
import { AppConfig } from '@app/config';
import { Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';

export interface AccessTokenClaims {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
}

const ALGORITHM = 'HS256';

/**
 * Access tokens: short-lived JWTs, HS256 pinned (a token naming any other algorithm, `none`
 * included, is refused), with issuer and audience checked on every verify.
 */
@Injectable()
export class AccessTokenService {
  constructor(private readonly config: AppConfig) {}

  get ttlSeconds(): number {
    return this.config.auth.accessTokenTtl;
  }

  sign(userId: string, sessionId: string): string {
    return jwt.sign({ sid: sessionId }, this.config.jwtSecret, {
      algorithm: ALGORITHM,
      subject: userId,
      jwtid: newId(),
      issuer: this.config.auth.issuer,
      audience: this.config.auth.audience,
      expiresIn: this.config.auth.accessTokenTtl,
    });
  }

  /** The claims of a valid token, or undefined for anything else (bad signature, expired, wrong iss/aud/alg). */
  verify(token: string): AccessTokenClaims | undefined {
    try {
      const claims = jwt.verify(token, this.config.jwtSecret, {
        algorithms: [ALGORITHM],
        issuer: this.config.auth.issuer,
        audience: this.config.auth.audience,
      });
      if (typeof claims !== 'object') return undefined;
      const { sub, sid, jti, iat, exp } = claims as Partial<AccessTokenClaims>;
      if (typeof sub !== 'string' || typeof sid !== 'string' || typeof jti !== 'string') return undefined;
      if (typeof iat !== 'number' || typeof exp !== 'number') return undefined;
      return { sub, sid, jti, iat, exp };
    } catch {
      return undefined;
    }
  }
}
