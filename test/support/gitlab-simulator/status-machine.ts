import type { CommitStatusState, PostableState } from "./model.js";

/** Events of GitLab's CommitStatus state machine that the status API fires. */
type StatusEvent = "enqueue" | "run" | "success" | "drop" | "cancel";

/** Each event's transitions, as CommitStatus defines them (states the API cannot reach left out). */
const transitions: Record<StatusEvent, { from: readonly CommitStatusState[]; to: CommitStatusState }> = {
  enqueue: { from: ["created"], to: "pending" },
  run: { from: ["pending"], to: "running" },
  success: { from: ["created", "pending", "running"], to: "success" },
  drop: { from: ["created", "pending", "running"], to: "failed" },
  cancel: { from: ["created", "pending", "running"], to: "canceled" },
};

/**
 * The events `POST /projects/:id/statuses/:sha` fires for each state, in order. `soft` events are
 * GitLab's non-bang calls (`status.enqueue` before `status.run!`): when they cannot fire they are
 * skipped instead of failing.
 */
const eventsFor: Record<PostableState, ReadonlyArray<{ event: StatusEvent; soft: boolean }>> = {
  pending: [{ event: "enqueue", soft: false }],
  running: [
    { event: "enqueue", soft: true },
    { event: "run", soft: false },
  ],
  success: [{ event: "success", soft: false }],
  failed: [{ event: "drop", soft: false }],
  canceled: [{ event: "cancel", soft: false }],
};

/** The outcome of posting a state onto a status: its new state, or GitLab's InvalidTransition message. */
export type PostOutcome = { ok: true; state: CommitStatusState } | { ok: false; message: string };

/**
 * Applies a posted state to a status in state `from` the way GitLab's API does, e.g. `pending` on a
 * pending status fails with `Cannot transition status via :enqueue from :pending`.
 */
export function applyPostedState(from: CommitStatusState, posted: PostableState): PostOutcome {
  let state = from;
  for (const { event, soft } of eventsFor[posted]) {
    const transition = transitions[event];
    if (transition.from.includes(state)) {
      state = transition.to;
    } else if (!soft) {
      return { ok: false, message: `Cannot transition status via :${event} from :${state}` };
    }
  }
  return { ok: true, state };
}
