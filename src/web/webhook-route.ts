import express, { type Request, type Response, type Router } from "express";
import type { Logger } from "pino";
import { deliveryBody } from "../forge/delivery-body.js";
import type { WebhookIntake } from "../forge/webhook-intake.js";
import { noWebhookMetrics, type WebhookMetrics } from "../metrics/metrics.js";
import type { IntakeQueues } from "./enqueue-intent.js";
import { answerWebhook, rawWebhookBody, reply, webhookBodyText } from "./webhook-reply.js";

/** What a forge's webhook route needs. */
export interface WebhookRouteOptions {
  /** The forge's intake: where its webhooks arrive, how they are authenticated and parsed. */
  intake: WebhookIntake;
  /** Where jobs go; each add resolves only once Redis has the job, and rejects when Redis is unreachable. */
  queues: IntakeQueues;
  /** Where intake logs each delivery. */
  log: Logger;
  /** Webhook counters for this forge (none counted when omitted). */
  metrics?: WebhookMetrics;
}

/**
 * A forge's webhook endpoint at `intake.path`: read the exact body (413 past 25 MB), authenticate
 * it with the forge's intake (401, or 400 without the headers it needs), then parse, queue and
 * answer as `answerWebhook` does (415, 400, 202 once Redis has the job, 503 while it is down).
 */
export function webhookRoute(options: WebhookRouteOptions): Router {
  const { intake, queues, log } = options;
  const metrics = options.metrics ?? noWebhookMetrics;
  const router = express.Router();
  router.post(intake.path, rawWebhookBody(metrics), async (req: Request, res: Response) => {
    const body = deliveryBody(webhookBodyText(req));
    const delivery = await intake.authenticate(req.headers, body);
    if (!delivery.ok) {
      if (delivery.warning !== undefined) log.warn(delivery.warning.fields, delivery.warning.message);
      if (delivery.reason !== undefined) metrics.rejected(delivery.reason);
      return reply(res, delivery.status, { error: delivery.error });
    }
    return answerWebhook(res, {
      contentType: req.header("content-type"),
      body: body.json(),
      parse: delivery.parse,
      queues,
      log,
      logFields: delivery.logFields,
      metrics,
    });
  });
  return router;
}
