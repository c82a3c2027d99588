import express, { type Express, type NextFunction, type Request, type Response, type Router } from "express";
import type { Logger } from "pino";
import type { Metrics } from "../metrics/metrics.js";

/** What the web role serves besides the forge routes. */
export interface WebAppOptions {
  /** True while Ferry can queue work (Redis answers). */
  isReady(): Promise<boolean>;
  /** Forge webhook routes (mounted before any body parser), the plan pages and the queue dashboard. */
  routes: Router[];
  /** Whether a GitHub App is configured; the home page says how to register one when not. */
  githubConfigured: boolean;
  /** Served at `/metrics` in Prometheus' text format, when given. */
  metrics?: Metrics;
  /** True when this process runs only the worker role: it serves health and metrics, no webhooks. */
  workerOnly?: boolean;
  /** Where failed requests are logged. */
  log: Logger;
}

/** Builds Ferry's express app: webhooks, `/healthz`, `/readyz`, `/metrics` and a home page. */
export function createWebApp(options: WebAppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  for (const route of options.routes) app.use(route);
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    const ready = await options.isReady();
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "redis unreachable" });
  });
  const { metrics } = options;
  if (metrics) {
    app.get("/metrics", async (_req, res) => {
      res.type(metrics.contentType).send(await metrics.text());
    });
  }
  app.get("/", (_req, res) => {
    res.type("text/plain").send(options.workerOnly ? workerPage() : homePage(options.githubConfigured));
  });
  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = httpStatusOf(error);
    if (status >= 500) options.log.error({ err: error }, "request failed");
    res.status(status).json({
      error: status === 413 ? "body too large" : status >= 500 ? "internal error" : String((error as Error).message),
    });
  });
  return app;
}

function httpStatusOf(error: unknown): number {
  const status = typeof error === "object" && error !== null ? (error as { status?: unknown }).status : undefined;
  return typeof status === "number" && status >= 400 && status < 600 ? status : 500;
}

function homePage(githubConfigured: boolean): string {
  const github = githubConfigured
    ? "GitHub App: configured; webhooks at /api/github/webhooks."
    : [
        "GitHub App: not configured. To register one:",
        "  1. Create a GitHub App from the manifest app.yml (Settings → Developer settings → GitHub Apps),",
        "     with the webhook URL https://<this host>/api/github/webhooks.",
        "  2. Set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET, and for GitHub Enterprise",
        "     Server GHE_HOST, then restart Ferry.",
      ].join("\n");
  return [
    "Ferry: merged commits carried to Kubernetes clusters.",
    "",
    github,
    "",
    "Health: /healthz   Readiness: /readyz   Metrics: /metrics",
    "",
  ].join("\n");
}

function workerPage(): string {
  return [
    "Ferry worker: runs plan and deploy jobs; webhooks go to the web role.",
    "",
    "Health: /healthz   Readiness: /readyz   Metrics: /metrics",
    "",
  ].join("\n");
}
