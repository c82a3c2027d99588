import express, { type Request, type Response, type Router } from "express";
import type { Logger } from "pino";
import { parseGitHubWebhook } from "../forge/github/parse-github-webhook.js";
import { noWebhookMetrics, type WebhookMetrics, type WebhookRejection } from "../metrics/metrics.js";
import type { IntakeQueues } from "./enqueue-intent.js";
import { answerWebhook, rawWebhookBody, readJsonBody, reply, webhookBodyText } from "./webhook-reply.js";

/** Where GitHub delivers webhooks, as Probot apps receive them. */
export const GITHUB_WEBHOOK_PATH = "/api/github/webhooks";

/** What the GitHub webhook route needs. */
export interface GitHubWebhookRouteOptions {
  /** Checks `X-Hub-Signature-256` over the exact body (Probot's `webhooks.verify`). */
  verify(body: string, signature: string): Promise<boolean>;
  /** Where jobs go; each add resolves only once Redis has the job, and rejects when Redis is unreachable. */
  queues: IntakeQueues;
  /** Where intake logs each delivery. */
  log: Logger;
  /** Webhook counters for this forge (none counted when omitted). */
  metrics?: WebhookMetrics;
}

const REQUIRED_HEADERS = ["x-github-event", "x-github-delivery", "x-hub-signature-256"] as const;

/**
 * The GitHub App's webhook endpoint: verify, parse into a forge-neutral request, queue, then 202.
 * Probot's own middleware answers 200 after its handlers and 500 on their errors; Ferry answers
 * 202 only once Redis has the job, 401 on a bad signature and 503 when Redis is down, so the HTTP
 * envelope is Ferry's and Probot verifies the signature and authenticates the worker's calls.
 */
export function githubWebhookRoute(options: GitHubWebhookRouteOptions): Router {
  const router = express.Router();
  const metrics = options.metrics ?? noWebhookMetrics;
  const reject = (res: Response, status: number, reason: WebhookRejection, body: object) => {
    metrics.rejected(reason);
    reply(res, status, body);
  };
  router.post(GITHUB_WEBHOOK_PATH, rawWebhookBody(metrics), async (req: Request, res: Response) => {
    const missing = REQUIRED_HEADERS.filter((h) => typeof req.headers[h] !== "string");
    if (missing.includes("x-hub-signature-256")) return reject(res, 401, "authentication", { error: "missing X-Hub-Signature-256" });
    if (missing.length > 0) return reply(res, 400, { error: `missing headers: ${missing.join(", ")}` });
    const event = req.header("x-github-event") ?? "";
    const delivery = req.header("x-github-delivery") ?? "";
    const body = webhookBodyText(req);
    const logFields = { forge: "github", delivery, event };
    if (!(await options.verify(body, req.header("x-hub-signature-256") ?? "").catch(() => false))) {
      options.log.warn(logFields, "webhook rejected: signature does not match");
      return reject(res, 401, "authentication", { error: "signature does not match payload and secret" });
    }
    return answerWebhook(res, {
      contentType: req.header("content-type"),
      body: readJsonBody(body),
      parse: (payload) => parseGitHubWebhook(event, delivery, payload),
      queues: options.queues,
      log: options.log,
      logFields,
      metrics,
    });
  });
  return router;
}
