import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A cheap round trip to the database, bounded in time so a dead server cannot hang a probe. */
@Injectable()
export class DatabaseHealth {
  constructor(private readonly dataSource: DataSource) {}

  /** Set once the schema was found current: migrations only arrive with a new release (new pods). */
  private schemaCurrent = false;

  /**
   * Throws while migrations this build knows are not applied (READINESS_REQUIRES_CURRENT_SCHEMA):
   * a pod of a new release stays out of the Service until the migrate step has run.
   */
  async requireCurrentSchema(): Promise<void> {
    if (this.schemaCurrent) return;
    if (await this.dataSource.showMigrations()) throw new Error('the database has pending migrations');
    this.schemaCurrent = true;
  }

  async ping(timeoutMs = 2_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('database ping timed out')), timeoutMs);
    });
    try {
      await Promise.race([this.dataSource.query('SELECT 1'), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
