import { z } from "zod";
import type { DeployRequest } from "../../queue/deploy-request.js";

/** What a GitHub webhook asks of Ferry: a deploy, or nothing (with the reason it was dropped). */
export type GitHubWebhookIntent = { kind: "deploy"; request: DeployRequest } | { kind: "ignore"; reason: string };

/** A webhook whose payload lacks fields Ferry needs; the intake answers 400. */
export class MalformedPayloadError extends Error {
  /** Builds the error from the schema's complaint. */
  constructor(message: string) {
    super(message);
    this.name = "MalformedPayloadError";
  }
}

const repository = z.object({
  full_name: z.string().min(1),
});
const installation = z.object({ id: z.number().int() }).optional();

const pullRequestClosed = z.object({
  action: z.literal("closed"),
  installation,
  repository,
  pull_request: z.object({
    number: z.number().int(),
    merged: z.boolean().nullable(),
    merge_commit_sha: z.string().nullable(),
    merged_by: z.object({ login: z.string() }).nullable().optional(),
    base: z.object({ ref: z.string().min(1) }),
  }),
  sender: z.object({ login: z.string() }),
});

const push = z.object({
  ref: z.string().min(1),
  after: z.string().min(1),
  deleted: z.boolean().optional(),
  installation,
  repository,
  pusher: z.object({ name: z.string() }).optional(),
  sender: z.object({ login: z.string() }),
});

const ZERO_SHA = /^0+$/;

/**
 * Turns a verified GitHub webhook into a forge-neutral intent. Nothing past this function sees the
 * raw payload. Throws MalformedPayloadError when an event Ferry acts on lacks the fields it needs.
 */
export function parseGitHubWebhook(event: string, deliveryId: string, payload: unknown): GitHubWebhookIntent {
  const action = typeof payload === "object" && payload !== null ? (payload as { action?: unknown }).action : undefined;
  if (event === "pull_request" && action === "closed") {
    const p = parse(pullRequestClosed, payload, "pull_request.closed");
    if (p.pull_request.merged !== true) return { kind: "ignore", reason: "pull request closed without merging" };
    if (!p.pull_request.merge_commit_sha) throw new MalformedPayloadError("pull_request.merge_commit_sha is missing");
    return {
      kind: "deploy",
      request: {
        repo: { forge: "github", fullName: p.repository.full_name, installationId: p.installation?.id },
        branch: p.pull_request.base.ref,
        sha: p.pull_request.merge_commit_sha,
        actor: p.pull_request.merged_by?.login ?? p.sender.login,
        deliveryId,
        change: p.pull_request.number,
      },
    };
  }
  if (event === "push") {
    const p = parse(push, payload, "push");
    if (!p.ref.startsWith("refs/heads/")) return { kind: "ignore", reason: `push to ${p.ref} is not a branch` };
    if (p.deleted === true || ZERO_SHA.test(p.after)) return { kind: "ignore", reason: "branch deleted" };
    return {
      kind: "deploy",
      request: {
        repo: { forge: "github", fullName: p.repository.full_name, installationId: p.installation?.id },
        branch: p.ref.slice("refs/heads/".length),
        sha: p.after,
        actor: p.pusher?.name ?? p.sender.login,
        deliveryId,
      },
    };
  }
  return { kind: "ignore", reason: `Ferry does not act on ${event}${typeof action === "string" ? `.${action}` : ""}` };
}

function parse<S extends z.ZodType>(schema: S, payload: unknown, what: string): z.output<S> {
  const result = schema.safeParse(payload);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new MalformedPayloadError(`${what} payload: ${issue ? `${issue.path.join(".") || "(top level)"}: ${issue.message}` : "invalid"}`);
  }
  return result.data;
}
