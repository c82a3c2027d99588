import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { DeliveryBody } from "../delivery-body.js";
import { headerValue, type Authentication, type WebhookIntake } from "../webhook-intake.js";
import { gitlabProjectPath, parseGitLabWebhook, type GitLabWebhookOptions } from "./parse-gitlab-webhook.js";

/** Where GitLab project webhooks are pointed. */
export const GITLAB_WEBHOOK_PATH = "/api/gitlab/webhooks";

/** What GitLab's intake needs. */
export interface GitLabIntakeOptions {
  /**
   * The secret token configured on the webhook of `projectPath` (a path with namespace, undefined
   * when the payload names none): the project's own, else a shared one; undefined refuses it.
   */
  secretFor(projectPath: string | undefined): string | undefined;
  /** The username Ferry's token acts as, when known: its own notes never run commands (Ferry's note markers are refused either way). */
  botUsername?: string;
}

/**
 * GitLab's webhooks: `X-Gitlab-Token` checked, then parsed by `parseGitLabWebhook`. GitLab does
 * not sign payloads; it sends the webhook's secret token as a header, which is compared in constant
 * time with the secret of the project the payload names.
 */
export function gitlabIntake(options: GitLabIntakeOptions): WebhookIntake {
  const parseOptions: GitLabWebhookOptions =
    options.botUsername === undefined ? {} : { botUsername: options.botUsername };
  const authenticate = (headers: IncomingHttpHeaders, body: DeliveryBody): Authentication => {
    const token = headerValue(headers, "x-gitlab-token");
    if (token === undefined)
      return { ok: false, status: 401, reason: "authentication", error: "missing X-Gitlab-Token" };
    const event = headerValue(headers, "x-gitlab-event");
    if (event === undefined)
      return { ok: false, status: 400, reason: "malformed", error: "missing headers: x-gitlab-event" };
    // GitLab 17.4+ sends Idempotency-Key, the same on every retry of one delivery; X-Gitlab-Event-UUID before that.
    const delivery =
      headerValue(headers, "idempotency-key") ?? headerValue(headers, "x-gitlab-event-uuid") ?? randomUUID();
    const json = body.json();
    const project = json.valid ? gitlabProjectPath(json.value) : undefined;
    const logFields = { forge: "gitlab", delivery, event, project };
    if (!tokenMatches(token, options.secretFor(project))) {
      return {
        ok: false,
        status: 401,
        reason: "authentication",
        error: "X-Gitlab-Token does not match the webhook's secret",
        warning: { message: "webhook rejected: token does not match", fields: logFields },
      };
    }
    return { ok: true, logFields, parse: (payload) => parseGitLabWebhook(event, delivery, payload, parseOptions) };
  };
  return {
    forge: "gitlab",
    path: GITLAB_WEBHOOK_PATH,
    authenticate: (headers, body) => Promise.resolve(authenticate(headers, body)),
  };
}

/** Whether `token` equals `secret`, in time that depends on neither (both are hashed to equal lengths first). */
function tokenMatches(token: string, secret: string | undefined): boolean {
  if (secret === undefined || secret === "") return false;
  const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(token), digest(secret));
}
