import { PGlite } from '@electric-sql/pglite';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Client } from 'pg';
import { initdbArchive, startEmbeddedPostgres } from './embedded-postgres';

/** The embedded server's settings: PostgreSQL's own after initdb, apart from the smaller memory reservations. */
describe('embedded PostgreSQL settings', () => {
  const SETTINGS = `SELECT name, setting FROM pg_settings
                     WHERE source NOT IN ('default', 'override') AND name NOT IN ('shared_buffers', 'max_connections')
                     ORDER BY name`;

  it('keeps initdb’s time zone, locale and text search settings, with 8 MB of shared buffers and 10 connections', async () => {
    const plain = await PGlite.create({});
    const expected = (await plain.query(SETTINGS)).rows;
    await plain.close();

    const embedded = await startEmbeddedPostgres('memory://');
    const client = new Client({ host: embedded.host, port: embedded.port, user: 'postgres', database: 'postgres' });
    try {
      await client.connect();
      expect((await client.query(SETTINGS)).rows).toEqual(expected);
      expect((await client.query('SHOW shared_buffers')).rows).toEqual([{ shared_buffers: '8MB' }]);
      expect((await client.query('SHOW max_connections')).rows).toEqual([{ max_connections: '10' }]);
      expect((await client.query('SHOW TimeZone')).rows).toEqual([{ TimeZone: 'UTC' }]);
    } finally {
      await client.end();
      await embedded.stop();
    }
  });
});

describe('a new embedded database', () => {
  it('starts from initdb’s archive, made once in a child process and kept; an older archive is removed', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'initdb-cache-'));
    const stale = join(cache, 'pglite-initdb-0000000000000000.tar');
    writeFileSync(stale, 'an archive of an earlier PGlite');
    try {
      const archive = await initdbArchive([cache]);
      if (!archive) throw new Error('no archive was made');
      expect(archive).toMatch(/[/\\]pglite-initdb-[0-9a-f]{16}\.tar$/);
      expect(existsSync(stale)).toBe(false);
      // Nothing half-written is left beside it.
      expect(readdirSync(cache)).toEqual([basename(archive)]);
      const made = statSync(archive).mtimeMs;
      expect(await initdbArchive([cache])).toBe(archive);
      expect(statSync(archive).mtimeMs).toBe(made);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('refuses a data directory that holds files but no database, and leaves it as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embedded-stray-'));
    writeFileSync(join(dir, 'notes.txt'), 'not a database');
    try {
      await expect(startEmbeddedPostgres(dir)).rejects.toThrow(/holds files but no database \(no PG_VERSION\)/);
      expect(readdirSync(dir)).toEqual(['notes.txt']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
