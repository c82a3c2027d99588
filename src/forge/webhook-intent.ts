import type { DeployRequest } from "../queue/deploy-request.js";
import type { CommandRequest, PlanRequest } from "../queue/plan-request.js";

/**
 * What a forge's webhook asks of Ferry, whichever forge sent it: a deploy, a plan of a change, a
 * command from a comment, or nothing (with the reason it was dropped). Each forge's parser returns
 * one; nothing past the parser sees a raw payload.
 */
export type WebhookIntent =
  | { kind: "deploy"; request: DeployRequest }
  | { kind: "plan"; request: PlanRequest }
  | { kind: "command"; request: CommandRequest }
  | { kind: "ignore"; reason: string };

/** An intent that queues a job: every kind but `ignore`. */
export type QueuedIntent = Exclude<WebhookIntent, { kind: "ignore" }>;
