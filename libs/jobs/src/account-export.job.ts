import { defineJob } from '@app/queue';

export interface AccountExportPayload {
  exportId: string;
}

/** Builds one person's export (`POST /users/me/export`) and mails its single-use link. */
export const AccountExportJob = defineJob<AccountExportPayload>('account.export', { attempts: 3, backoffMs: 5_000 });
