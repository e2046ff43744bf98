import { newId } from '@app/common';
import { AppConfig, redactUrl } from '@app/config';
import { DependencyReport, TenantTransaction } from '@app/database';
import { JobProcessor, type JobHandler } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { join } from 'node:path';
import { checkDependencies } from './dependency-check';
import { DependencyCheckJob } from './dependency-check.job';

/** Reports kept; older ones are deleted when a new one is stored. */
export const KEPT_DEPENDENCY_REPORTS = 30;

/** Runs the dependency check against the package.json of the working directory (the app's root). */
@Injectable()
@JobProcessor(DependencyCheckJob)
export class DependencyCheckProcessor implements JobHandler<Record<string, never>> {
  private readonly logger = new Logger('DependencyCheck');

  constructor(
    private readonly config: AppConfig,
    private readonly transactions: TenantTransaction,
  ) {}

  async handle(): Promise<void> {
    const started = Date.now();
    const registry = this.config.dependencyCheck.registryUrl;
    const { packages, summary } = await checkDependencies(join(process.cwd(), 'package.json'), registry);
    // A private registry's URL may carry credentials: they stay out of the report.
    const shown = redactUrl(registry);
    for (const finding of packages) {
      if (finding.error) finding.error = finding.error.split(registry).join(shown);
    }
    await this.transactions.runAsSystem(async (manager) => {
      await manager.insert(DependencyReport, {
        id: newId(),
        registry: shown.replace(/\/$/, ''),
        durationMs: Date.now() - started,
        summary,
        packages,
      });
      await manager.query(
        `DELETE FROM dependency_reports WHERE id NOT IN
           (SELECT id FROM dependency_reports ORDER BY created_at DESC, id DESC LIMIT $1)`,
        [KEPT_DEPENDENCY_REPORTS],
      );
    });
    this.logger.log(
      { ...summary },
      `dependency check: ${summary.major} major, ${summary.minor} minor, ${summary.patch} patch behind; ${summary.unknown} unknown`,
    );
  }
}
