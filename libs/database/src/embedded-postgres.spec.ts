import { PGlite } from '@electric-sql/pglite';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { initdbArchive, startEmbeddedPostgres } from './embedded-postgres';

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

describe('a new embedded database', () => {
  it('starts from initdb’s archive, made once and shared by every new database', async () => {
    const archive = await initdbArchive();
    expect(archive).toMatch(/[/\\]saas-embedded-postgres[/\\]pglite-initdb-[0-9a-f]{16}\.tar$/);
    const made = statSync(archive!).mtimeMs;
    expect(await initdbArchive()).toBe(archive);
    expect(statSync(archive!).mtimeMs).toBe(made);
  });

  it('is created in an empty directory, keeps its data, and resumes from the directory on the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embedded-new-'));
    const query = async (sql: string) => {
      const embedded = await startEmbeddedPostgres(dir);
      const client = new Client({ host: embedded.host, port: embedded.port, user: 'postgres', database: 'postgres' });
      try {
        await client.connect();
        return (await client.query<Record<string, unknown>>(sql)).rows;
      } finally {
        await client.end();
        await embedded.stop();
      }
    };
    try {
      await query('CREATE TABLE kept (note text); INSERT INTO kept VALUES ($$written before the restart$$)');
      expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
      expect(await query('SHOW wal_segment_size')).toEqual([{ wal_segment_size: '1MB' }]);
      expect(await query('SELECT note FROM kept')).toEqual([{ note: 'written before the restart' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
