import { PGlite } from '@electric-sql/pglite';
import { Client } from 'pg';
import { startEmbeddedPostgres } from './embedded-postgres';

/** The embedded server's settings: PostgreSQL's own after initdb, apart from the smaller memory reservations. */
describe('embedded PostgreSQL settings', () => {
  const SETTINGS = `SELECT name, setting FROM pg_settings
                     WHERE source NOT IN ('default', 'override') AND name NOT IN ('shared_buffers', 'max_connections')
                     ORDER BY name`;

  it('keeps initdb’s time zone, locale and text search settings, with 16 MB of shared buffers and 10 connections', async () => {
    const plain = await PGlite.create({});
    const expected = (await plain.query(SETTINGS)).rows;
    await plain.close();

    const embedded = await startEmbeddedPostgres('memory://');
    const client = new Client({ host: embedded.host, port: embedded.port, user: 'postgres', database: 'postgres' });
    try {
      await client.connect();
      expect((await client.query(SETTINGS)).rows).toEqual(expected);
      expect((await client.query('SHOW shared_buffers')).rows).toEqual([{ shared_buffers: '16MB' }]);
      expect((await client.query('SHOW max_connections')).rows).toEqual([{ max_connections: '10' }]);
      expect((await client.query('SHOW TimeZone')).rows).toEqual([{ TimeZone: 'UTC' }]);
    } finally {
      await client.end();
      await embedded.stop();
    }
  });
});
