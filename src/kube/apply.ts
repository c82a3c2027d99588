import pLimit from "p-limit";
import { permanent, transient } from "../errors.js";
import type { DesiredObject } from "./desired-object.js";
import { apiError, isTransientStatus, type KubeClient } from "./kube-client.js";
import { FIELD_MANAGER } from "./labels.js";
import { describeRef } from "./object-ref.js";
import { redactSecretValues } from "./redact-secret.js";

/** Requests in flight at once while applying or validating one release. */
export const APPLY_CONCURRENCY = 32;

/** The outcome of applying one object. */
export interface AppliedObject {
  key: string;
  /** 201 from the server: the object did not exist. */
  created: boolean;
  resourceVersion: string;
  /** The object as the server returned it (the dry-run result when validating). */
  result: Record<string, unknown>;
}

/** One object the server refused, and why, in words safe to print. */
export interface RefusedObject {
  object: DesiredObject;
  status: number;
  reason: string;
  message: string;
}

/** Options for a batch of server-side applies. */
export interface ApplyOptions {
  /** Validate only (`dryRun=All`): the server runs admission and validation and writes nothing. */
  dryRun?: boolean;
  /**
   * Keys of objects known not to exist. With `dryRun`, these are validated with a dry-run create
   * instead of a dry-run apply: the same validation and admission, without the server-side apply
   * merge, which is most of the server's work for a new object.
   */
  absent?: Set<string>;
}

/**
 * Server-side applies every object (field manager `ferry`, conflicts forced: Git is the source of
 * truth, and an edit by hand is put back), with strict field validation so unknown fields are errors.
 * Returns what was applied and what the server refused; a transient failure (unreachable server, 5xx,
 * 429) throws at once so the job retries.
 */
export async function serverSideApply(client: KubeClient, objects: DesiredObject[], options: ApplyOptions = {}): Promise<{ applied: AppliedObject[]; refused: RefusedObject[] }> {
  const limit = pLimit(APPLY_CONCURRENCY);
  const applied: AppliedObject[] = [];
  const refused: RefusedObject[] = [];
  const query = `?fieldManager=${FIELD_MANAGER}&force=true&fieldValidation=Strict${options.dryRun ? "&dryRun=All" : ""}`;
  await Promise.all(
    objects.map((desired) =>
      limit(async () => {
        const create = options.dryRun === true && options.absent?.has(desired.key) === true;
        const path = await client.path(create ? { ...desired.ref, name: undefined } : desired.ref);
        const res = create
          ? await client.request("POST", `${path}?fieldManager=${FIELD_MANAGER}&fieldValidation=Strict&dryRun=All`, desired.object)
          : await client.request("PATCH", path + query, desired.object, "application/apply-patch+yaml");
        if (res.status === 200 || res.status === 201) {
          const result = res.body as { metadata?: { resourceVersion?: string } };
          applied.push({ key: desired.key, created: res.status === 201, resourceVersion: result.metadata?.resourceVersion ?? "", result: res.body as Record<string, unknown> });
          return;
        }
        const error = apiError(res);
        const message = redactSecretValues(error.message, desired.object);
        if (isTransientStatus(res.status)) {
          limit.clearQueue();
          throw transient(`${describeRef(desired.ref)}: ${message}`);
        }
        refused.push({ object: desired, status: res.status, reason: error.reason, message });
      }),
    ),
  );
  return { applied, refused };
}

/**
 * Throws one permanent error naming every refused object, its source file and the server's reason;
 * the first line names the first object, so a status description (one line) says what to fix;
 * `what` (e.g. "nothing was applied") closes the message.
 */
export function throwIfRefused(refused: RefusedObject[], what: string): void {
  if (refused.length === 0) return;
  const lines = refused.map((r) => `${describeRef(r.object.ref)} (${r.object.source}): ${r.message}`);
  const more = refused.length > 1 ? ` (and ${refused.length - 1} more)` : "";
  throw permanent(`${lines[0]}${more}${refused.length > 1 ? `\n${lines.slice(1).join("\n")}` : ""}\n(${what})`);
}
