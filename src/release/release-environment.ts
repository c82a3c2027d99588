import type { Environment } from "../config/ferry-config.js";
import { applyFieldValidation, serverSideApply, throwIfRefused, type AppliedObject } from "../kube/apply.js";
import { applyWaves, FOUNDATION_KINDS } from "../kube/apply-order.js";
import type { DesiredObject } from "../kube/desired-object.js";
import { inventoryLocation, readInventory, writeInventory, type Inventory, type InventoryEntry, type ReleaseRecord } from "../kube/inventory.js";
import type { KubeClient } from "../kube/kube-client.js";
import { FIELD_MANAGER, MANAGED_BY_LABEL } from "../kube/labels.js";
import { refKey, type ObjectRef } from "../kube/object-ref.js";
import { prune } from "../kube/prune.js";
import { waitForCrds } from "../kube/wait-for-crds.js";
import type { Grant } from "../policy/policy.js";
import type { RenderedObject } from "../render/types.js";
import { compareWithCluster } from "./compare-with-cluster.js";

/** What one release needs. */
export interface ReleaseInput {
  client: KubeClient;
  repository: string;
  env: Environment;
  grant: Grant;
  rendered: RenderedObject[];
  sha: string;
  actor: string;
  /**
   * The release is not done once applied: its health is still to be waited for. It is recorded as
   * `waiting` until {@link recordReleaseResult} records the verdict.
   */
  awaitHealth?: boolean;
}

/** What a release did, object by object. */
export interface ReleaseResult {
  created: ObjectRef[];
  configured: ObjectRef[];
  /** Objects already as Git says. */
  unchanged: number;
  pruned: ObjectRef[];
  /** Every object the release holds, changed or not: what its health is judged on. */
  objects: ObjectRef[];
}

/** The last release recorded for an environment, to tell whether a commit was already released. */
export async function lastRelease(client: KubeClient, repository: string, env: Environment): Promise<ReleaseRecord | undefined> {
  return (await releaseHistory(client, repository, env))[0];
}

/** An environment's recorded releases, newest first: where a rollback finds the last good one. */
export async function releaseHistory(client: KubeClient, repository: string, env: Environment): Promise<ReleaseRecord[]> {
  const inventory = await readInventory(client, inventoryLocation(repository, env.name, env.namespace), repository, env.name);
  return inventory.releases;
}

/**
 * Records the verdict on the newest release of `sha` once its health is known (it was recorded as
 * `waiting` when applied). The objects it owns stay as they are: applied is applied, healthy or not.
 */
export async function recordReleaseResult(client: KubeClient, repository: string, env: Environment, sha: string, result: Exclude<ReleaseRecord["result"], "waiting">, summary?: string): Promise<void> {
  const at = inventoryLocation(repository, env.name, env.namespace);
  const inventory = await readInventory(client, at, repository, env.name);
  const index = inventory.releases.findIndex((r) => r.sha === sha);
  const record = inventory.releases[index];
  if (!record) return;
  const releases = [...inventory.releases];
  releases[index] = { ...record, result, summary: summary ?? record.summary, time: new Date().toISOString() };
  await writeInventory(client, at, { ...inventory, releases });
}

/**
 * Releases one commit to one environment: prepare → check policy → compare with the inventory and
 * the live objects → validate every changed object with a server-side dry-run → apply in order →
 * prune → record the inventory. Nothing is written unless every object validated (objects in a
 * namespace or of a CRD the same release creates are validated right after those are created).
 */
export async function releaseEnvironment(input: ReleaseInput): Promise<ReleaseResult> {
  const { client, env } = input;
  const namespaceRef: ObjectRef = { apiVersion: "v1", kind: "Namespace", name: env.namespace };
  const validationRef: ObjectRef = { apiVersion: "v1", kind: "Namespace", name: VALIDATION_NAMESPACE };
  const { at, desired, inventory, live, changed, gone } = await compareWithCluster(input, [namespaceRef, validationRef]);
  const desiredKeys = new Set(desired.map((d) => d.key));

  // Namespaces this release brings into being. The server cannot dry-run an object in a namespace
  // that does not exist, so such objects are validated in Ferry's empty validation namespace instead:
  // an invalid manifest then writes nothing, not even the namespace. Objects of a CRD the release
  // itself creates can only be validated once the CRD is established.
  const newNamespaces = new Set(desired.filter((d) => d.ref.kind === "Namespace" && !live.has(d.key)).map((d) => d.ref.name));
  if (!live.has(refKey(namespaceRef))) newNamespaces.add(env.namespace);
  const inNewNamespace = (d: DesiredObject) => d.ref.namespace !== undefined && newNamespaces.has(d.ref.namespace);
  const validateNow = changed.filter((d) => !d.pendingCrd);
  // The Namespace LIST in the live state says whether the validation namespace already exists.
  if (validateNow.some(inNewNamespace) && !live.has(refKey(validationRef))) await ensureNamespace(client, VALIDATION_NAMESPACE);
  const absent = new Set(changed.filter((d) => !live.has(d.key)).map((d) => d.key));
  const { refused } = await serverSideApply(client, validateNow.map((d) => (inNewNamespace(d) ? inNamespace(d, VALIDATION_NAMESPACE) : d)), { dryRun: true, absent, metadataOnly: true });
  throwIfRefused(refused.map((r) => ({ ...r, object: changed.find((d) => d.key === r.object.key) ?? r.object })), "server-side validation failed: nothing was applied");

  const applied: AppliedObject[] = [];
  const record = async (result: ReleaseRecord["result"], summary: string) => {
    const appliedByKey = new Map(applied.map((a) => [a.key, a]));
    const objects: InventoryEntry[] = desired.map((d) => ({ ...d.ref, hash: d.hash, resourceVersion: appliedByKey.get(d.key)?.resourceVersion ?? live.get(d.key)?.resourceVersion ?? "" }));
    // A release that failed part way still owns what it owned before, so a later release can prune it.
    const kept = result === "failure" ? inventory.objects.filter((o) => !desiredKeys.has(refKey(o))) : [];
    const next: Inventory = { ...inventory, objects: [...objects, ...kept], releases: [{ sha: input.sha, time: new Date().toISOString(), actor: input.actor, result, summary }, ...inventory.releases] };
    await writeInventory(client, at, next);
  };
  try {
    if (newNamespaces.has(env.namespace) && !desired.some((d) => d.key === refKey(namespaceRef))) await ensureNamespace(client, env.namespace);
    const foundation = changed.filter((d) => FOUNDATION_KINDS.has(d.ref.kind));
    const crds = foundation.filter((d) => d.ref.kind === "CustomResourceDefinition").map((d) => d.ref.name);
    await applyChecked(client, foundation, applied, applyFieldValidation(false));
    await waitForCrds(client, crds);
    const rest = changed.filter((d) => !FOUNDATION_KINDS.has(d.ref.kind));
    const late = await serverSideApply(client, rest.filter((d) => d.pendingCrd), { dryRun: true, absent, metadataOnly: true });
    throwIfRefused(late.refused, "server-side validation failed after creating CRDs: nothing else was applied");
    for (const wave of applyWaves(rest, (d) => d.ref.kind)) await applyChecked(client, wave, applied, applyFieldValidation(crds.length > 0));
    const pruned = env.prune ? await prune(client, gone, live, at.id) : [];
    const appliedByKey = new Map(applied.map((a) => [a.key, a]));
    const result: ReleaseResult = {
      created: changed.filter((d) => appliedByKey.get(d.key)?.created).map((d) => d.ref),
      configured: changed.filter((d) => {
        const a = appliedByKey.get(d.key);
        return a && !a.created && a.resourceVersion !== live.get(d.key)?.resourceVersion;
      }).map((d) => d.ref),
      unchanged: 0,
      pruned,
      objects: desired.map((d) => d.ref),
    };
    result.unchanged = desired.length - result.created.length - result.configured.length;
    await record(input.awaitHealth === true ? "waiting" : "success", `+${result.created.length} ~${result.configured.length} -${pruned.length}`);
    return result;
  } catch (error) {
    if (applied.length > 0) await record("failure", error instanceof Error ? error.message.split("\n")[0] ?? "" : "failed").catch(() => undefined);
    throw error;
  }
}

/** Namespace, kept empty, in which Ferry dry-runs objects whose own namespace does not exist yet. */
export const VALIDATION_NAMESPACE = "ferry-validation";

/** Creates a namespace (server-side apply, so it is a no-op when it exists). */
export async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  const body = { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { [MANAGED_BY_LABEL]: "ferry" } } };
  await client.call("PATCH", `/api/v1/namespaces/${name}?fieldManager=${FIELD_MANAGER}&force=true`, body, "application/apply-patch+yaml");
}

/** The same object moved to another namespace: how objects whose namespace does not exist yet are validated. */
export function inNamespace(d: DesiredObject, namespace: string): DesiredObject {
  const ref = { ...d.ref, namespace };
  return { ...d, ref, object: { ...d.object, metadata: { ...d.object.metadata, namespace } } };
}

async function applyChecked(client: KubeClient, objects: DesiredObject[], applied: AppliedObject[], fieldValidation: "Strict" | "Ignore"): Promise<void> {
  if (objects.length === 0) return;
  const out = await serverSideApply(client, objects, { metadataOnly: true, fieldValidation });
  applied.push(...out.applied);
  throwIfRefused(out.refused, "the apply failed part way: objects before this one were applied");
}
