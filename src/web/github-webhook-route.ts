import express, { type Request, type Response, type Router } from "express";
import type { Logger } from "pino";
import { MalformedPayloadError, parseGitHubWebhook } from "../forge/github/parse-github-webhook.js";
import type { Queues } from "../queue/queues.js";

/** Where GitHub delivers webhooks, as Probot apps receive them. */
export const GITHUB_WEBHOOK_PATH = "/api/github/webhooks";

/** GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub. */
const MAX_BODY = "25mb";

/** What the GitHub webhook route needs. */
export interface GitHubWebhookRouteOptions {
  /** Checks `X-Hub-Signature-256` over the exact body (Probot's `webhooks.verify`). */
  verify(body: string, signature: string): Promise<boolean>;
  /** Where jobs go; each add resolves only once Redis has the job, and rejects when Redis is unreachable. */
  queues: Pick<Queues, "enqueueDeploy" | "enqueuePlan" | "enqueueCommand">;
  log: Logger;
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
  router.post(GITHUB_WEBHOOK_PATH, express.raw({ type: () => true, limit: MAX_BODY }), async (req: Request, res: Response) => {
    const missing = REQUIRED_HEADERS.filter((h) => typeof req.headers[h] !== "string");
    if (missing.includes("x-hub-signature-256")) return reply(res, 401, { error: "missing X-Hub-Signature-256" });
    if (missing.length > 0) return reply(res, 400, { error: `missing headers: ${missing.join(", ")}` });
    const event = req.header("x-github-event") ?? "";
    const delivery = req.header("x-github-delivery") ?? "";
    const body = Buffer.isBuffer(req.body) ? req.body.toString("utf8") : "";
    const log = options.log.child({ forge: "github", delivery, event });
    if (!(await options.verify(body, req.header("x-hub-signature-256") ?? "").catch(() => false))) {
      log.warn("webhook rejected: signature does not match");
      return reply(res, 401, { error: "signature does not match payload and secret" });
    }
    if (!/^\s*application\/json\s*(;|$)/i.test(req.header("content-type") ?? "")) {
      return reply(res, 415, { error: "Content-Type must be application/json" });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return reply(res, 400, { error: "body is not valid JSON" });
    }
    let intent;
    try {
      intent = parseGitHubWebhook(event, delivery, payload);
    } catch (error) {
      if (error instanceof MalformedPayloadError) return reply(res, 400, { error: error.message });
      throw error;
    }
    if (intent.kind === "ignore") {
      log.debug({ reason: intent.reason }, "webhook ignored");
      return reply(res, 202, { ignored: intent.reason });
    }
    try {
      const jobId =
        intent.kind === "deploy"
          ? await options.queues.enqueueDeploy(intent.request)
          : intent.kind === "plan"
            ? await options.queues.enqueuePlan(intent.request)
            : await options.queues.enqueueCommand(intent.request);
      log.info({ repository: intent.request.repo.fullName, jobId }, `${intent.kind} queued`);
      return reply(res, 202, { queued: jobId });
    } catch (error) {
      log.error({ err: error }, "cannot queue: Redis unreachable");
      return reply(res, 503, { error: "queue unavailable, redeliver later" });
    }
  });
  return router;
}

function reply(res: Response, status: number, body: object): void {
  res.status(status).json(body);
}
