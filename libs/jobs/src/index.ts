export { JobsModule } from './jobs.module';
export { MailSendJob } from './mail-send.job';
export { MailSendProcessor } from './mail-send.processor';
