import { createHash, createHmac } from 'node:crypto';
import { excessRights, scramVerifier } from './database-roles';

describe('scramVerifier', () => {
  // RFC 7677's SCRAM-SHA-256 example: the server holding our verifier accepts that exchange.
  const clientFirstBare = 'n=user,r=rOprNGfwEbeRWgbNEkqO';
  const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
  const clientFinalBare = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
  const serverSignature = '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';
  const authMessage = `${clientFirstBare},${serverFirst},${clientFinalBare}`;

  const parse = (verifier: string) => {
    const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
    if (!match) throw new Error(`not a verifier: ${verifier}`);
    return {
      iterations: Number(match[1]),
      salt: match[2],
      storedKey: Buffer.from(match[3] ?? '', 'base64'),
      serverKey: Buffer.from(match[4] ?? '', 'base64'),
    };
  };

  it('stores keys that verify the RFC 7677 client proof and produce its server signature', () => {
    const verifier = parse(scramVerifier('pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64')));
    expect(verifier.iterations).toBe(4096);
    expect(verifier.salt).toBe('W22ZaJ0SNY7soEsUEjb6gQ==');
    const clientSignature = createHmac('sha256', verifier.storedKey).update(authMessage).digest();
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ (clientSignature[i] ?? 0)));
    expect(createHash('sha256').update(clientKey).digest().equals(verifier.storedKey)).toBe(true);
    expect(createHmac('sha256', verifier.serverKey).update(authMessage).digest('base64')).toBe(serverSignature);
  });

  it('does not verify another password, and salts each verifier afresh', () => {
    const wrong = parse(scramVerifier('pencils', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64')));
    expect(createHmac('sha256', wrong.serverKey).update(authMessage).digest('base64')).not.toBe(serverSignature);
    expect(parse(scramVerifier('pencil')).salt).not.toBe(parse(scramVerifier('pencil')).salt);
  });
});

describe('excessRights', () => {
  const runtime = {
    name: 'app_runtime',
    superuser: false,
    bypassRls: false,
    createRole: false,
    replication: false,
    inherit: false,
    ownedObjects: 0,
    memberOf: ['app_user'],
  };

  it('finds nothing in a login that owns nothing and may only become app_user', () => {
    expect(excessRights(runtime)).toEqual([]);
  });

  it('names each right a runtime login must not have', () => {
    expect(excessRights({ ...runtime, superuser: true })).toEqual([expect.stringContaining('superuser')]);
    expect(excessRights({ ...runtime, bypassRls: true })).toEqual(['has BYPASSRLS']);
    expect(excessRights({ ...runtime, createRole: true })).toEqual(['has CREATEROLE']);
    expect(excessRights({ ...runtime, replication: true })).toEqual(['has REPLICATION']);
    expect(excessRights({ ...runtime, ownedObjects: 3 })).toEqual([expect.stringContaining('owns 3 object(s)')]);
    expect(excessRights({ ...runtime, memberOf: ['app_user', 'saas_owner'] })).toEqual([
      'is a member of saas_owner (it could SET ROLE to them)',
    ]);
  });
});
