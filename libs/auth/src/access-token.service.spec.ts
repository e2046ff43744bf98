import { AppConfig } from '@app/config';
import jwt from 'jsonwebtoken';
import { JwtService } from '@nestjs/jwt';
import { AccessTokenService, jwtModuleOptions } from './access-token.service';

describe('AccessTokenService', () => {
  const config = AppConfig.fromEnv({ JWT_SECRET: 's'.repeat(40), APP_URL: 'https://api.example.test' });
  const service = new AccessTokenService(config, new JwtService(jwtModuleOptions(config)));

  it('signs tokens with every claim it verifies', () => {
    const claims = service.verify(service.sign('user-1', 'session-1'));
    expect(claims).toMatchObject({ sub: 'user-1', sid: 'session-1' });
    expect(claims?.exp).toBe((claims?.iat ?? 0) + 900);
    expect(claims?.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives each token its own id', () => {
    expect(service.verify(service.sign('u', 's'))?.jti).not.toBe(service.verify(service.sign('u', 's'))?.jti);
  });

  it('refuses a token missing the session claim', () => {
    const token = jwt.sign({}, config.jwtSecret, {
      algorithm: 'HS256',
      subject: 'u',
      jwtid: 'j',
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      expiresIn: 60,
    });
    expect(service.verify(token)).toBeUndefined();
  });

  it('refuses a token signed with another algorithm or none', () => {
    const claims = { sid: 's', sub: 'u', jti: 'j', iss: config.auth.issuer, aud: config.auth.audience };
    const unsigned = jwt.sign(claims, null, { algorithm: 'none', expiresIn: 60 });
    expect(service.verify(unsigned)).toBeUndefined();
    const hs512 = jwt.sign(claims, config.jwtSecret, { algorithm: 'HS512', expiresIn: 60 });
    expect(service.verify(hs512)).toBeUndefined();
  });

  it('refuses garbage', () => {
    expect(service.verify('not.a.jwt')).toBeUndefined();
    expect(service.verify('')).toBeUndefined();
  });
});

describe('AccessTokenService remembering verified tokens', () => {
  const config = AppConfig.fromEnv({ JWT_SECRET: 't'.repeat(40), ACCESS_TOKEN_TTL: '2s' });
  afterEach(() => jest.useRealTimers());

  it('answers a known token without verifying it again, and still refuses it once expired', () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'queueMicrotask'] });
    const jwtService = new JwtService(jwtModuleOptions(config));
    const service = new AccessTokenService(config, jwtService);
    const token = service.sign('u', 's');
    const verify = jest.spyOn(jwtService, 'verify');
    expect(service.verify(token)?.sid).toBe('s');
    expect(service.verify(token)?.sid).toBe('s');
    expect(verify).toHaveBeenCalledTimes(1);
    jest.setSystemTime(Date.now() + 2_100);
    expect(service.verify(token)).toBeUndefined();
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('never remembers a refused token', () => {
    const jwtService = new JwtService(jwtModuleOptions(config));
    const service = new AccessTokenService(config, jwtService);
    const token = service.sign('u', 's');
    const tampered = `${token.slice(0, -4)}AAAA`;
    const verify = jest.spyOn(jwtService, 'verify');
    expect(service.verify(tampered)).toBeUndefined();
    expect(service.verify(tampered)).toBeUndefined();
    expect(verify).toHaveBeenCalledTimes(2);
  });
});
