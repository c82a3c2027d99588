import type { WebhookIntake } from "../webhook-intake.js";
import { headerValue } from "../webhook-intake.js";
import { parseGitHubWebhook } from "./parse-github-webhook.js";

/** Where GitHub delivers webhooks, as Probot apps receive them. */
export const GITHUB_WEBHOOK_PATH = "/api/github/webhooks";

/** What GitHub's intake needs. */
export interface GitHubIntakeOptions {
  /** Checks `X-Hub-Signature-256` over the exact body (Probot's `webhooks.verify`). */
  verify(body: string, signature: string): Promise<boolean>;
}

const REQUIRED_HEADERS = ["x-github-event", "x-github-delivery", "x-hub-signature-256"] as const;

/**
 * The GitHub App's webhooks: `X-Hub-Signature-256` checked over the exact body, then parsed by
 * `parseGitHubWebhook`. Probot verifies the signature (and authenticates the worker's calls), but
 * its middleware does not answer: it would answer 200 after its handlers and 500 on their errors,
 * where Ferry answers 202 only once Redis has the job and 503 while Redis is down.
 */
export function githubIntake(options: GitHubIntakeOptions): WebhookIntake {
  return {
    forge: "github",
    path: GITHUB_WEBHOOK_PATH,
    async authenticate(headers, body) {
      const missing = REQUIRED_HEADERS.filter((h) => headerValue(headers, h) === undefined);
      if (missing.includes("x-hub-signature-256"))
        return { ok: false, status: 401, reason: "authentication", error: "missing X-Hub-Signature-256" };
      // Not counted as a rejection, as it never was; GitLab's intake counts its missing event header as malformed.
      if (missing.length > 0)
        return { ok: false, status: 400, reason: undefined, error: `missing headers: ${missing.join(", ")}` };
      const event = headerValue(headers, "x-github-event") ?? "";
      const delivery = headerValue(headers, "x-github-delivery") ?? "";
      const signature = headerValue(headers, "x-hub-signature-256") ?? "";
      const logFields = { forge: "github", delivery, event };
      if (!(await options.verify(body.text, signature).catch(() => false))) {
        return {
          ok: false,
          status: 401,
          reason: "authentication",
          error: "signature does not match payload and secret",
          warning: { message: "webhook rejected: signature does not match", fields: logFields },
        };
      }
      return { ok: true, logFields, parse: (payload) => parseGitHubWebhook(event, delivery, payload) };
    },
  };
}
