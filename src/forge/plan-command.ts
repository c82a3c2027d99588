import type { CommandRequest } from "../domain/requests.js";
import type { WebhookIntent } from "../domain/requests.js";

/** A comment line asking for a plan: `/ferry plan`, or `/ferry plan <env>`. */
const PLAN_COMMAND = /^\/ferry plan(?:\s+(\S+))?$/;

/** Where a comment was written and by whom: what a command request carries besides the command itself. */
export type CommentSource = Pick<CommandRequest, "repo" | "change" | "commentId" | "user" | "deliveryId">;

/**
 * The command a comment asks for when a line of its `body` is `/ferry plan [env]` (the first such
 * line counts), or an ignore saying the `noun` ("comment", "note") holds none.
 */
export function planCommandIntent(body: string, source: CommentSource, noun: string): WebhookIntent {
  for (const line of body.split(/\r?\n/)) {
    const match = PLAN_COMMAND.exec(line.trim());
    if (match === null) continue;
    const environment = match[1];
    return { kind: "command", request: { ...source, command: "plan", ...(environment === undefined ? {} : { environment }) } };
  }
  return { kind: "ignore", reason: `${noun} holds no /ferry plan command` };
}
