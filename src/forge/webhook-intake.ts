import type { IncomingHttpHeaders } from "node:http";
import type { ForgeKind } from "../domain/repo.js";
import type { WebhookIntent } from "../domain/requests.js";
import type { WebhookRejection } from "../metrics/metrics.js";
import type { DeliveryBody } from "./delivery-body.js";

/**
 * How one forge's webhooks are received: where they arrive, how they are authenticated, how they
 * are parsed. The HTTP envelope around it (body limit, content type, queueing, answers) is the same
 * for every forge and lives in `src/web/webhook-route.ts`.
 */
export interface WebhookIntake {
  /** The forge whose webhooks these are; it labels the webhook metrics. */
  readonly forge: ForgeKind;
  /** The path the forge delivers to. */
  readonly path: string;
  /**
   * Checks a delivery's headers and its authenticity over the exact body: the delivery's log fields
   * and parser when the forge sent it, else why it is refused. Resolves for every delivery, however bad.
   */
  authenticate(headers: IncomingHttpHeaders, body: DeliveryBody): Promise<Authentication>;
}

/** What `WebhookIntake.authenticate` found: a delivery to parse, or one to refuse. */
export type Authentication = AuthenticatedDelivery | RefusedDelivery;

/** A delivery proven to come from the forge, ready to be parsed. */
export interface AuthenticatedDelivery {
  /** The delivery is the forge's. */
  readonly ok: true;
  /** Fields every log line about the delivery carries: forge, delivery id, event (GitLab: project too). */
  readonly logFields: Record<string, unknown>;
  /** The forge's parser, bound to this delivery's event and id; throws MalformedPayloadError when fields are missing. */
  readonly parse: (payload: unknown) => WebhookIntent;
}

/** A delivery refused before it is parsed: answered `status` with `{ error }`. */
export interface RefusedDelivery {
  /** The delivery is refused. */
  readonly ok: false;
  /** 401 when the delivery is not proven to be the forge's; 400 when it lacks a header Ferry needs. */
  readonly status: 400 | 401;
  /** What the webhook metrics count it as; undefined counts no rejection. */
  readonly reason: WebhookRejection | undefined;
  /** The answer's `error` text. */
  readonly error: string;
  /** A warning to log about it: for a delivery that said who it was but failed the check. */
  readonly warning?: { readonly message: string; readonly fields: Record<string, unknown> };
}

/** A request header's value when it was sent once as text (Node joins repeated headers), else undefined. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : undefined;
}
