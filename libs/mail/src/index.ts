export { MailModule } from './mail.module';
export { MailService } from './mail.service';
export type { MailMessage } from './mail-message';
export { escapeHtml, html } from './escape-html';
export { neutraliseLinks, quoteUserText } from './user-text';
export {
  accountExportMail,
  organizationExportMail,
  invitationMail,
  lockoutMail,
  notificationMail,
  passwordResetMail,
  verificationMail,
  type InvitationMailContext,
  type NotificationMailContent,
} from './account-mails';
