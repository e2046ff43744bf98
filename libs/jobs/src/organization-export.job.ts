import { defineJob } from '@app/queue';

export interface OrganizationExportPayload {
  exportId: string;
}

/** Builds an organization's export (`POST /organizations/{orgId}/exports`) and mails the owner who asked. */
export const OrganizationExportJob = defineJob<OrganizationExportPayload>('organization.export', {
  attempts: 3,
  backoffMs: 5_000,
});
