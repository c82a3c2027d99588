import { createHash, timingSafeEqual } from "node:crypto";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Queue } from "bullmq";
import express, { type RequestHandler, type Router } from "express";

/** Where the queue dashboard is served. */
export const QUEUE_DASHBOARD_PATH = "/admin/queues";

/** The user name and password the queue dashboard asks for (HTTP basic authentication). */
export interface AdminCredentials {
  /** The user name to ask for. */
  user: string;
  /** The password to ask for. */
  password: string;
}

/** The dashboard's credentials from `FERRY_ADMIN_USER` and `FERRY_ADMIN_PASSWORD`; undefined (no dashboard) unless both are set. */
export function adminCredentialsFromEnv(env: NodeJS.ProcessEnv): AdminCredentials | undefined {
  const user = env.FERRY_ADMIN_USER ?? "";
  const password = env.FERRY_ADMIN_PASSWORD ?? "";
  return user !== "" && password !== "" ? { user, password } : undefined;
}

/**
 * The bull-board dashboard of Ferry's queues at `/admin/queues`, behind HTTP basic authentication:
 * it shows job payloads and can retry or remove jobs, so it is only ever mounted with credentials.
 */
export function queueDashboardRoute(options: { queues: Queue[]; credentials: AdminCredentials }): Router {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    // Queue groups on a Redis Cluster repeat every name: the prefix tells them apart.
    queues: options.queues.map(
      (queue) => new BullMQAdapter(queue, queue.opts.prefix === "bull" ? {} : { prefix: `${queue.opts.prefix}:` }),
    ),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: "Ferry queues" } },
  });
  const router = express.Router();
  router.use(QUEUE_DASHBOARD_PATH, basicAuth(options.credentials), adapter.getRouter() as Router);
  return router;
}

/** Answers 401 unless the request carries `credentials`, compared in time that depends on neither. */
function basicAuth(credentials: AdminCredentials): RequestHandler {
  return (req, res, next) => {
    const given = parseBasic(req.header("authorization"));
    // `&`, not `&&`: both comparisons always run.
    const ok =
      given !== undefined &&
      (Number(sameSecret(given.user, credentials.user)) & Number(sameSecret(given.password, credentials.password))) ===
        1;
    if (ok) return next();
    res
      .status(401)
      .set("WWW-Authenticate", 'Basic realm="Ferry queues", charset="UTF-8"')
      .json({ error: "authentication required" });
  };
}

function parseBasic(header: string | undefined): AdminCredentials | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}
