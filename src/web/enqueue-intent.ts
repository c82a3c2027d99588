import type { QueuedIntent } from "../domain/requests.js";
import type { Queues } from "../queue/queues.js";

/** The queue operations webhook intake uses; each add resolves once Redis has the job and rejects when Redis is unreachable. */
export type IntakeQueues = Pick<Queues, "enqueueDeploy" | "enqueuePlan" | "enqueueCommand">;

/** Queues the job an intent asks for, resolving with its job id once Redis has it. */
export async function enqueueIntent(queues: IntakeQueues, intent: QueuedIntent): Promise<string> {
  switch (intent.kind) {
    case "deploy":
      return queues.enqueueDeploy(intent.request);
    case "plan":
      // A check's Re-run is a plan of its own, as `/ferry plan` is: the head may have been planned before.
      return queues.enqueuePlan(
        intent.request,
        intent.request.rerun === undefined ? undefined : `rerun-${intent.request.rerun}`,
      );
    case "command":
      return queues.enqueueCommand(intent.request);
  }
}
