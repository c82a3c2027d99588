import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import express, { type Request, type Response, type Router } from "express";
import type { Logger } from "pino";
import { gitlabProjectPath, parseGitLabWebhook } from "../forge/gitlab/parse-gitlab-webhook.js";
import { noWebhookMetrics, type WebhookMetrics, type WebhookRejection } from "../metrics/metrics.js";
import type { IntakeQueues } from "./enqueue-intent.js";
import { answerWebhook, rawWebhookBody, readJsonBody, reply, webhookBodyText } from "./webhook-reply.js";

/** Where GitLab project webhooks are pointed. */
export const GITLAB_WEBHOOK_PATH = "/api/gitlab/webhooks";

/** What the GitLab webhook route needs. */
export interface GitLabWebhookRouteOptions {
  /**
   * The secret token configured on the webhook of `projectPath` (a path with namespace, undefined
   * when the payload names none): the project's own, else a shared one; undefined refuses it.
   */
  secretFor(projectPath: string | undefined): string | undefined;
  /** Where jobs go; each add resolves only once Redis has the job, and rejects when Redis is unreachable. */
  queues: IntakeQueues;
  /** Where intake logs each delivery. */
  log: Logger;
  /** Webhook counters for this forge (none counted when omitted). */
  metrics?: WebhookMetrics;
  /** The username Ferry's token acts as, when known: its own notes never run commands (Ferry's note markers are refused either way). */
  botUsername?: string;
}

/**
 * GitLab's webhook endpoint: check `X-Gitlab-Token`, parse into a forge-neutral request, queue,
 * then 202. GitLab does not sign payloads; it sends the webhook's secret token as a header, which
 * is compared in constant time with the secret of the project the payload names.
 */
export function gitlabWebhookRoute(options: GitLabWebhookRouteOptions): Router {
  const router = express.Router();
  const metrics = options.metrics ?? noWebhookMetrics;
  const reject = (res: Response, status: number, reason: WebhookRejection, body: object) => {
    metrics.rejected(reason);
    reply(res, status, body);
  };
  router.post(GITLAB_WEBHOOK_PATH, rawWebhookBody(metrics), (req: Request, res: Response) => {
    const token = req.header("x-gitlab-token");
    if (token === undefined) return reject(res, 401, "authentication", { error: "missing X-Gitlab-Token" });
    const event = req.header("x-gitlab-event");
    if (event === undefined) return reject(res, 400, "malformed", { error: "missing headers: x-gitlab-event" });
    // GitLab 17.4+ sends Idempotency-Key, the same on every retry of one delivery; X-Gitlab-Event-UUID before that.
    const delivery = req.header("idempotency-key") ?? req.header("x-gitlab-event-uuid") ?? randomUUID();
    const body = readJsonBody(webhookBodyText(req));
    const project = body.valid ? gitlabProjectPath(body.value) : undefined;
    const logFields = { forge: "gitlab", delivery, event, project };
    if (!tokenMatches(token, options.secretFor(project))) {
      options.log.warn(logFields, "webhook rejected: token does not match");
      return reject(res, 401, "authentication", { error: "X-Gitlab-Token does not match the webhook's secret" });
    }
    return answerWebhook(res, {
      contentType: req.header("content-type"),
      body,
      parse: (payload) => parseGitLabWebhook(event, delivery, payload, options.botUsername === undefined ? {} : { botUsername: options.botUsername }),
      queues: options.queues,
      log: options.log,
      logFields,
      metrics,
    });
  });
  return router;
}

/** Whether `token` equals `secret`, in time that depends on neither (both are hashed to equal lengths first). */
function tokenMatches(token: string, secret: string | undefined): boolean {
  if (secret === undefined || secret === "") return false;
  const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(token), digest(secret));
}
