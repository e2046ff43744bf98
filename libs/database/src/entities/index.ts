import { AccountExport } from './account-export.entity';
import { ApiKey } from './api-key.entity';
import { AuditLog } from './audit-log.entity';
import { DependencyReport } from './dependency-report.entity';
import { Invitation } from './invitation.entity';
import { LlmJob } from './llm-job.entity';
import { LlmUsage } from './llm-usage.entity';
import { OAuthAccount } from './oauth-account.entity';
import { OneTimeToken } from './one-time-token.entity';
import { OrganizationMember } from './organization-member.entity';
import { Organization } from './organization.entity';
import { OutboxMessage } from './outbox-message.entity';
import { Passkey } from './passkey.entity';
import { Permission } from './permission.entity';
import { Project } from './project.entity';
import { RefreshToken } from './refresh-token.entity';
import { RoleAssignment } from './role-assignment.entity';
import { RolePermission } from './role-permission.entity';
import { Role } from './role.entity';
import { SecurityEvent } from './security-event.entity';
import { SsoConnection } from './sso-connection.entity';
import { OrganizationDomain } from './organization-domain.entity';
import { ScimGroupMember } from './scim-group-member.entity';
import { ScimGroup } from './scim-group.entity';
import { ScimToken } from './scim-token.entity';
import { ScimUser } from './scim-user.entity';
import { Session } from './session.entity';
import { TeamMember } from './team-member.entity';
import { Team } from './team.entity';
import { User } from './user.entity';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';
// generate:resource imports (npm run generate:resource adds lines above these markers)

export {
  AccountExport,
  ApiKey,
  AuditLog,
  DependencyReport,
  Invitation,
  LlmJob,
  LlmUsage,
  OAuthAccount,
  OneTimeToken,
  Organization,
  OrganizationMember,
  OutboxMessage,
  Passkey,
  Permission,
  Project,
  RefreshToken,
  Role,
  RoleAssignment,
  RolePermission,
  SecurityEvent,
  Session,
  SsoConnection,
  OrganizationDomain,
  ScimGroup,
  ScimGroupMember,
  ScimToken,
  ScimUser,
  Team,
  TeamMember,
  User,
  WebhookDelivery,
  WebhookEndpoint,
  // generate:resource exports
};
export { BaseEntity } from './base.entity';
export type { AccountExportStatus } from './account-export.entity';
export type { WebhookDeliveryStatus } from './webhook-delivery.entity';
export type { DependencyFinding, DependencyStatus, DependencySummary } from './dependency-report.entity';
export type { LlmChatMessage, LlmJobProblem, LlmJobStatus } from './llm-job.entity';
export type { AuditActorType, AuditOutcome } from './audit-log.entity';
export type { OneTimeTokenPurpose } from './one-time-token.entity';
export type { ProjectStatus } from './project.entity';
export type { SecurityEventKind } from './security-event.entity';
export type { SsoConnectionType, SsoRoleMapping, SsoTeamMapping } from './sso-connection.entity';
export type { RoleScope } from './permission.entity';

export const ENTITIES = [
  AccountExport,
  ApiKey,
  AuditLog,
  DependencyReport,
  Invitation,
  LlmJob,
  LlmUsage,
  OAuthAccount,
  OneTimeToken,
  Organization,
  OrganizationMember,
  OutboxMessage,
  Passkey,
  Permission,
  Project,
  RefreshToken,
  Role,
  RoleAssignment,
  RolePermission,
  SecurityEvent,
  Session,
  SsoConnection,
  OrganizationDomain,
  ScimGroup,
  ScimGroupMember,
  ScimToken,
  ScimUser,
  Team,
  TeamMember,
  User,
  WebhookEndpoint,
  WebhookDelivery,
  // generate:resource entities
];
