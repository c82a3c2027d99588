import pLimit from "p-limit";
import { permanent, transient } from "../errors.js";
import type { DesiredObject } from "./desired-object.js";
import { apiError, isTransientStatus, KubeApiError, type KubeClient } from "./kube-client.js";
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
  /**
   * Ask for metadata only in answers (`as=PartialObjectMetadata`, falling back to the full object
   * where a server cannot): `result` then holds the metadata, which is all a release reads
   * (resourceVersion), and the server encodes, and Ferry parses, a fraction of each object.
   */
  metadataOnly?: boolean;
  /**
   * `fieldValidation` of the applies (not of dry-runs, always `Strict`); default `Strict`.
   * `Ignore` is for applying bodies that a `Strict` dry-run has just accepted, unchanged and
   * against the same schemas: see {@link applyFieldValidation}.
   */
  fieldValidation?: "Strict" | "Ignore";
}

/** Partial object metadata, or the full object from a server that cannot transform its answer. */
const METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

/**
 * Server-side applies every object (field manager `ferry`, conflicts forced: Git is the source of
 * truth, and an edit by hand is put back), with strict field validation so unknown fields are errors
 * (unless `fieldValidation` says otherwise for applies a strict dry-run vouched for).
 * Returns what was applied and what the server refused; a transient failure (unreachable server, 5xx,
 * 429) throws at once so the job retries.
 */
export async function serverSideApply(
  client: KubeClient,
  objects: DesiredObject[],
  options: ApplyOptions = {},
): Promise<{ applied: AppliedObject[]; refused: RefusedObject[] }> {
  const limit = pLimit(APPLY_CONCURRENCY);
  const applied: AppliedObject[] = [];
  const refused: RefusedObject[] = [];
  const fieldValidation = options.dryRun ? "Strict" : (options.fieldValidation ?? "Strict");
  const query = `?fieldManager=${FIELD_MANAGER}&force=true&fieldValidation=${fieldValidation}${options.dryRun ? "&dryRun=All" : ""}`;
  const accept = options.metadataOnly ? METADATA_ONLY : "application/json";
  await Promise.all(
    objects.map((desired) =>
      limit(async () => {
        const create = options.dryRun === true && options.absent?.has(desired.key) === true;
        const path = await client
          .path(create ? { ...desired.ref, name: undefined } : desired.ref)
          .catch((error: unknown) => {
            // A kind the server does not serve is this object's problem, reported with the others' (a CRD's
            // unserved version); anything else (discovery unreachable) is the whole batch's.
            if (error instanceof KubeApiError && error.status === 404) return error;
            throw error;
          });
        if (path instanceof KubeApiError) {
          refused.push({ object: desired, status: path.status, reason: path.reason, message: path.message });
          return;
        }
        const res = create
          ? await client.request(
              "POST",
              `${path}?fieldManager=${FIELD_MANAGER}&fieldValidation=Strict&dryRun=All`,
              desired.object,
              "application/json",
              accept,
            )
          : await client.request("PATCH", path + query, desired.object, "application/apply-patch+yaml", accept);
        if (res.status === 200 || res.status === 201) {
          const result = res.body as { metadata?: { resourceVersion?: string } };
          applied.push({
            key: desired.key,
            created: res.status === 201,
            resourceVersion: result.metadata?.resourceVersion ?? "",
            result: res.body as Record<string, unknown>,
          });
          return;
        }
        const error = apiError(res);
        const message = redactSecretValues(error.message, desired.object, desired.secrets);
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
 * The `fieldValidation` for applying objects a `Strict` dry-run accepted, unchanged: `Ignore`, unless
 * the release changed CustomResourceDefinitions between the dry-run and the apply.
 *
 * Why it is safe: for a server-side apply, `Strict` adds one check to what the server always does, a
 * second, strict YAML parse of the body that refuses duplicate keys (unknown fields are refused
 * whatever the directive: the field manager cannot type a field its schema lacks; apply.test.ts
 * checks this). Ferry's bodies are `JSON.stringify` output, which cannot repeat a key, and a strict
 * dry-run of the same body has already passed. Only a schema changed in between could change the
 * verdict, so when the release itself changed CRDs the applies stay `Strict`. The strict parse is a
 * second YAML parse of every body, a few percent of the API server's CPU for each apply.
 */
export function applyFieldValidation(changedCrds: boolean): "Strict" | "Ignore" {
  return changedCrds ? "Strict" : "Ignore";
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
