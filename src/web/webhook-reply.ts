import express, { type Request, type RequestHandler, type Response } from "express";
import type { Logger } from "pino";
import type { JsonBody } from "../forge/delivery-body.js";
import { MalformedPayloadError } from "../forge/malformed-payload-error.js";
import type { WebhookIntent } from "../domain/requests.js";
import { noWebhookMetrics, type WebhookMetrics } from "../metrics/metrics.js";
import { enqueueIntent, type IntakeQueues } from "./enqueue-intent.js";

/** GitHub and GitLab both cap webhook payloads at 25 MB; anything larger is not from them. */
const MAX_BODY = "25mb";

/**
 * Reads a webhook's body as raw bytes (whatever its Content-Type), since verification needs the
 * exact bytes; 413 past 25 MB. Counts every delivery as received, and a body it cannot read as rejected.
 */
export function rawWebhookBody(metrics: WebhookMetrics = noWebhookMetrics): RequestHandler {
  const raw = express.raw({ type: () => true, limit: MAX_BODY });
  return (req, res, next) => {
    metrics.received();
    raw(req, res, (error?: unknown) => {
      if (error !== undefined) metrics.rejected(httpStatus(error) === 413 ? "too-large" : "malformed");
      next(error);
    });
  };
}

function httpStatus(error: unknown): number | undefined {
  const status = typeof error === "object" && error !== null ? (error as { status?: unknown }).status : undefined;
  return typeof status === "number" ? status : undefined;
}

/** The body `rawWebhookBody` read, as text. */
export function webhookBodyText(req: Request): string {
  return Buffer.isBuffer(req.body) ? req.body.toString("utf8") : "";
}

/** A webhook that passed its forge's authentication, ready to be parsed and queued. */
export interface VerifiedWebhook {
  /** The request's Content-Type header. */
  contentType: string | undefined;
  /** The body read as JSON. */
  body: JsonBody;
  /** The forge's parser: payload to intent; throws MalformedPayloadError when fields are missing. */
  parse(payload: unknown): WebhookIntent;
  /** Where jobs go. */
  queues: IntakeQueues;
  /** Where intake logs. */
  log: Logger;
  /** Fields every line about this delivery carries (forge, delivery, event). */
  logFields: Record<string, unknown>;
  /** The forge's webhook counters. */
  metrics?: WebhookMetrics;
}

/**
 * The part of webhook intake both forges share, after authentication: 415 unless JSON, 400 for a
 * body that is not JSON or lacks fields, 202 `{ignored}` for events Ferry does not act on, 202
 * `{queued: jobId}` once Redis has the job, 503 when it cannot be queued (so the forge shows a
 * failed delivery to redeliver).
 */
export async function answerWebhook(res: Response, webhook: VerifiedWebhook): Promise<void> {
  const { log, logFields } = webhook;
  const metrics = webhook.metrics ?? noWebhookMetrics;
  if (!/^\s*application\/json\s*(;|$)/i.test(webhook.contentType ?? "")) {
    metrics.rejected("content-type");
    return reply(res, 415, { error: "Content-Type must be application/json" });
  }
  if (!webhook.body.valid) {
    metrics.rejected("malformed");
    return reply(res, 400, { error: "body is not valid JSON" });
  }
  let intent;
  try {
    intent = webhook.parse(webhook.body.value);
  } catch (error) {
    if (!(error instanceof MalformedPayloadError)) throw error;
    metrics.rejected("malformed");
    return reply(res, 400, { error: error.message });
  }
  if (intent.kind === "ignore") {
    metrics.accepted("ignored");
    log.debug({ ...logFields, reason: intent.reason }, "webhook ignored");
    return reply(res, 202, { ignored: intent.reason });
  }
  try {
    const jobId = await enqueueIntent(webhook.queues, intent);
    metrics.accepted(intent.kind);
    log.info({ ...logFields, repository: intent.request.repo.fullName, jobId }, `${intent.kind} queued`);
    return reply(res, 202, { queued: jobId });
  } catch (error) {
    metrics.rejected("queue-unavailable");
    log.error({ ...logFields, err: error }, "cannot queue: Redis unreachable");
    return reply(res, 503, { error: "queue unavailable, redeliver later" });
  }
}

/**
 * Sends a JSON answer to a webhook delivery, straight through Node's response: express's `res.json`
 * would also compute an ETag and check request freshness, which a webhook's answer never needs.
 */
export function reply(res: Response, status: number, body: object): void {
  const json = JSON.stringify(body);
  res
    .writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) })
    .end(json);
}
