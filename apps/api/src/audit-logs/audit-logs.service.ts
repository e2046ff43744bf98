import { Metrics, ValidationProblemException } from '@app/common';
import { AuditLog, TenantTransaction } from '@app/database';
import { Injectable } from '@nestjs/common';
import type { EntityManager, SelectQueryBuilder } from 'typeorm';
import {
  AuditLogDto,
  type AdminAuditLogQueryDto,
  type AuditLogPageDto,
  type AuditLogQueryDto,
  type ChainVerificationDto,
  type SecurityEventQueryDto,
} from './dto/audit-log.dto';

const EXPORT_BATCH = 500;
const CSV_COLUMNS = [
  'occurredAt',
  'chainSeq',
  'id',
  'actorType',
  'actorId',
  'action',
  'targetType',
  'targetId',
  'outcome',
  'ip',
  'userAgent',
  'requestId',
  'metadata',
  'hash',
] as const;

type Filters = Omit<AuditLogQueryDto, 'cursor' | 'limit'>;

function invalidCursor(): ValidationProblemException {
  return new ValidationProblemException([{ field: 'cursor', message: 'cursor is not one this api issued' }]);
}

const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** Cursors are opaque to clients: a chain position, or (time, id) across chains. */
const cursors = {
  encodeSeq: (seq: string) => Buffer.from(`s:${seq}`).toString('base64url'),
  decodeSeq(cursor: string): string {
    const match = /^s:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
    // Nineteen digits can still exceed a bigint: refused here by name, not by the database.
    if (!match?.[1] || BigInt(match[1]) > MAX_BIGINT) throw invalidCursor();
    return match[1];
  },
  encodeTime: (row: AuditLog) => Buffer.from(`t:${row.occurredAt.toISOString()}|${row.id}`).toString('base64url'),
  decodeTime(cursor: string): { at: Date; id: string } {
    const match = /^t:([0-9T:.Z-]{20,30})\|([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
    const at = match?.[1] ? new Date(match[1]) : undefined;
    if (!match?.[2] || !at || Number.isNaN(at.getTime())) throw invalidCursor();
    return { at, id: match[2] };
  },
};

function applyFilters(query: SelectQueryBuilder<AuditLog>, filters: Filters): SelectQueryBuilder<AuditLog> {
  if (filters.actorId) query.andWhere('a.actor_id = :actorId', { actorId: filters.actorId });
  if (filters.actorType) query.andWhere('a.actor_type = :actorType', { actorType: filters.actorType });
  if (filters.action?.endsWith('*')) {
    const prefix = filters.action.slice(0, -1).replace(/[\\%_]/g, (char) => `\\${char}`);
    query.andWhere(`a.action LIKE :action ESCAPE '\\'`, { action: `${prefix}%` });
  } else if (filters.action) query.andWhere('a.action = :action', { action: filters.action });
  if (filters.targetType) query.andWhere('a.target_type = :targetType', { targetType: filters.targetType });
  if (filters.targetId) query.andWhere('a.target_id = :targetId', { targetId: filters.targetId });
  if (filters.outcome) query.andWhere('a.outcome = :outcome', { outcome: filters.outcome });
  if (filters.from) query.andWhere('a.occurred_at >= :from', { from: filters.from });
  if (filters.to) query.andWhere('a.occurred_at < :to', { to: filters.to });
  return query;
}

function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (value instanceof Date) text = value.toISOString();
  // A spreadsheet would run a cell starting with = + - @ as a formula (CSV injection).
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Reads the audit log: per organization (its chain, newest first), the caller's own security
 * events, and across organizations for platform admins; streams exports in batches; and verifies
 * an organization's hash chain in the database.
 */
@Injectable()
export class AuditLogsService {
  constructor(
    private readonly transactions: TenantTransaction,
    private readonly metrics: Metrics,
  ) {}

  async list(orgId: string, query: AuditLogQueryDto): Promise<AuditLogPageDto> {
    const { rows, hasNextPage } = await this.listWithCursors(orgId, query);
    return { items: rows.map((row) => row.entry), nextCursor: hasNextPage ? (rows.at(-1)?.cursor ?? null) : null };
  }

  /**
   * A page of the organization's log, newest first, with each row's own cursor (GraphQL's edges need one per row; REST
   * shows only the page's nextCursor).
   */
  async listWithCursors(
    orgId: string,
    query: AuditLogQueryDto,
  ): Promise<{ rows: Array<{ cursor: string; entry: AuditLogDto }>; hasNextPage: boolean }> {
    const before = query.cursor ? cursors.decodeSeq(query.cursor) : undefined;
    return this.transactions.run(orgId, async (manager) => {
      const builder = applyFilters(this.chain(manager, orgId), query).orderBy('a.chain_seq', 'DESC');
      if (before) builder.andWhere('a.chain_seq < :before', { before });
      const found = await builder.limit(query.limit + 1).getMany();
      return {
        rows: found
          .slice(0, query.limit)
          .map((row) => ({ cursor: cursors.encodeSeq(row.chainSeq), entry: AuditLogDto.from(row) })),
        hasNextPage: found.length > query.limit,
      };
    });
  }

  /** The caller's own sign-in and account events (they belong to no organization). */
  async securityEvents(userId: string, query: SecurityEventQueryDto): Promise<AuditLogPageDto> {
    const before = query.cursor ? cursors.decodeSeq(query.cursor) : undefined;
    return this.transactions.runAsSystem(async (manager) => {
      const builder = this.chain(manager, null)
        .andWhere('(a.actor_id = :userId OR a.target_id = :userIdText)', { userId, userIdText: userId })
        // Impersonations are shown to the person acted as (and to the admin who acted).
        .andWhere("(a.action LIKE 'auth.%' OR a.action LIKE 'user.%' OR a.action LIKE 'admin.impersonation.%')")
        .orderBy('a.chain_seq', 'DESC');
      if (before) builder.andWhere('a.chain_seq < :before', { before });
      return this.page(await builder.limit(query.limit + 1).getMany(), query.limit, (row) =>
        cursors.encodeSeq(row.chainSeq),
      );
    });
  }

  /** Platform admins: every organization (and the installation's own events), newest first. */
  async adminList(query: AdminAuditLogQueryDto): Promise<AuditLogPageDto> {
    const before = query.cursor ? cursors.decodeTime(query.cursor) : undefined;
    return this.transactions.runAsSystem(async (manager) => {
      const builder = applyFilters(manager.createQueryBuilder(AuditLog, 'a'), query)
        .orderBy('a.occurred_at', 'DESC')
        .addOrderBy('a.id', 'DESC');
      if (query.organizationId) builder.andWhere('a.organization_id = :orgId', { orgId: query.organizationId });
      if (before) builder.andWhere('(a.occurred_at, a.id) < (:at, :id)', { at: before.at, id: before.id });
      return this.page(await builder.limit(query.limit + 1).getMany(), query.limit, (row) => cursors.encodeTime(row));
    });
  }

  /** The organization's log, oldest first, as NDJSON or CSV lines, read in batches (memory stays flat). */
  async *export(orgId: string, filters: Filters, format: 'ndjson' | 'csv'): AsyncGenerator<string> {
    if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\n`;
    let after = '0';
    for (;;) {
      const rows = await this.transactions.run(orgId, (manager) =>
        applyFilters(this.chain(manager, orgId), filters)
          .andWhere('a.chain_seq > :after', { after })
          .orderBy('a.chain_seq', 'ASC')
          .limit(EXPORT_BATCH)
          .getMany(),
      );
      if (rows.length === 0) return;
      let chunk = '';
      for (const row of rows) {
        const dto = AuditLogDto.from(row);
        chunk +=
          format === 'ndjson'
            ? `${JSON.stringify(dto)}\n`
            : `${CSV_COLUMNS.map((column) => csvCell(dto[column])).join(',')}\n`;
      }
      yield chunk;
      if (rows.length < EXPORT_BATCH) return;
      after = rows[rows.length - 1]?.chainSeq ?? after;
    }
  }

  /**
   * Recomputes every row's hash from its content and the previous row's hash, in the database,
   * and reports the first row that does not match (edited), whose link to its predecessor is
   * wrong, or that follows a gap (a row removed). The oldest remaining row anchors the chain.
   */
  async verify(orgId: string): Promise<ChainVerificationDto> {
    const verification = await this.verifyChain(orgId);
    // A broken chain is an operator's alert (deploy/prometheus/alerts.yaml), not only an answer.
    this.metrics.auditChainVerifications.inc({ result: verification.valid ? 'valid' : 'broken' });
    return verification;
  }

  private verifyChain(orgId: string): Promise<ChainVerificationDto> {
    return this.transactions.run(orgId, async (manager) => {
      const [summary] = await manager.query<Array<{ checked: string }>>(
        'SELECT count(*) AS checked FROM audit_logs WHERE organization_id = $1',
        [orgId],
      );
      const broken = await manager.query<Array<{ id: string; chain_seq: string; reason: string }>>(
        `SELECT id, chain_seq, reason FROM (
           SELECT a.id, a.chain_seq,
                  CASE
                    WHEN a.hash <> audit_log_digest(a.prev_hash, a.chain_seq, a) THEN 'content-changed'
                    -- The personal fields, unless erased (then only their digest is left, and the hash covers it).
                    WHEN a.erased_at IS NULL AND a.personal_digest <> audit_log_personal_digest(a) THEN 'content-changed'
                    -- An erased row has nothing left of what its digest covered: a row that claims to be
                    -- erased but still carries data was changed.
                    WHEN a.erased_at IS NOT NULL AND (a.ip IS NOT NULL OR a.user_agent IS NOT NULL
                      OR a.personal_salt IS NOT NULL OR a.metadata <> '{}'::jsonb) THEN 'content-changed'
                    WHEN lag(a.chain_seq) OVER w IS NOT NULL AND a.chain_seq <> lag(a.chain_seq) OVER w + 1 THEN 'row-missing'
                    WHEN lag(a.chain_seq) OVER w IS NOT NULL AND a.prev_hash IS DISTINCT FROM lag(a.hash) OVER w THEN 'link-broken'
                  END AS reason
             FROM audit_logs a
            WHERE a.organization_id = $1
           WINDOW w AS (ORDER BY a.chain_seq)
         ) checked
         WHERE reason IS NOT NULL
         ORDER BY chain_seq
         LIMIT 1`,
        [orgId],
      );
      const first = broken[0];
      return {
        valid: !first,
        checked: Number(summary?.checked ?? 0),
        firstBroken: first ? { id: first.id, chainSeq: Number(first.chain_seq), reason: first.reason } : null,
      };
    });
  }

  private chain(manager: EntityManager, orgId: string | null): SelectQueryBuilder<AuditLog> {
    const builder = manager.createQueryBuilder(AuditLog, 'a');
    return orgId ? builder.where('a.organization_id = :orgId', { orgId }) : builder.where('a.organization_id IS NULL');
  }

  private page(rows: AuditLog[], limit: number, cursorOf: (row: AuditLog) => string): AuditLogPageDto {
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map((row) => AuditLogDto.from(row)),
      nextCursor: rows.length > limit && last ? cursorOf(last) : null,
    };
  }
}
