import { Module } from '@nestjs/common';
import { WebhookCatalogueController, WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** Organizations' webhook endpoints and their delivery logs (the deliveries themselves: @app/events). */
@Module({
  controllers: [WebhookCatalogueController, WebhooksController],
  providers: [WebhooksService],
})
export class WebhooksModule {}
