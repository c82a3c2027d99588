import { permanent } from "../errors.js";
import { prepareObjects, type DesiredObject } from "../kube/desired-object.js";
import { describeOwner, inventoryLocation, type Inventory, type InventoryLocation } from "../kube/inventory.js";
import { apiLiveReader, type LiveObject, type LiveReader } from "../kube/live-state.js";
import { namespaceStrangers } from "../kube/namespace-contents.js";
import { describeRef, refKey, type ObjectRef } from "../kube/object-ref.js";
import { policyViolations } from "../policy/policy.js";
import { pruneNamespaces, type Environment } from "../config/ferry-config.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { Grant } from "../policy/policy.js";
import type { RenderedObject } from "../render/types.js";
import { checkOwnership } from "./check-ownership.js";

/** An environment on one cluster, and what the policy grants it there. */
export interface ReleaseTarget {
  client: KubeClient;
  /** The repository, as the inventory names it. */
  repository: string;
  env: Environment;
  grant: Grant;
  /**
   * The namespace objects whose own namespace does not exist yet are dry-run in: default
   * `ferry-validation`, which installation creates (the Helm chart, `ferry setup-cluster`).
   */
  validationNamespace?: string;
  /**
   * Where live objects are read from (default the API server). Plans and reconciles give the watch
   * caches' reader; releases never do: what they write must rest on the server's own answer.
   */
  live?: LiveReader;
}

/** What a comparison needs: the target, its rendered objects and its inventory (being read). */
export interface CompareInput extends ReleaseTarget {
  rendered: RenderedObject[];
  /** The inventory, read while the objects are prepared; its outcome counts only once policy allowed them. */
  inventory: Promise<Inventory>;
  /** Ref keys of objects the caller leaves alone (a heal: ignored and taken-over objects), so their owner is not checked. */
  leave?: ReadonlySet<string>;
}

/** An environment's rendered objects set against its inventory and the live cluster. */
export interface Comparison {
  /** Where the environment's inventory lives. */
  at: InventoryLocation;
  /** Every object Git holds for the environment, prepared for the server. */
  desired: DesiredObject[];
  /** The last release's inventory. */
  inventory: Inventory;
  /** The live state of the desired objects, the inventory's objects and `alsoRead`, by ref key. */
  live: Map<string, LiveObject>;
  /** Desired objects that are new, or whose manifest or live version differs from the last release's. */
  changed: DesiredObject[];
  /** Objects the inventory holds that Git no longer has and that prune deletes (prune is on, and the environment still owns them). */
  prunable: ObjectRef[];
  /** Objects the inventory holds, Git no longer has and the environment still owns, left in place because prune is off. */
  kept: ObjectRef[];
}

/**
 * The first steps shared by a plan and a release: prepare the rendered objects → check them against
 * policy (a violation is a permanent error, before anything is read from the cluster counts) →
 * compare them with the inventory and the live objects → refuse to take over objects another
 * environment owns (`checkOwnership`) → refuse to prune a Namespace holding objects the environment
 * does not own, unless it says `pruneNamespaces: cascade`. Every refusal is a permanent error thrown
 * before anything is written. An object whose manifest hash and live resourceVersion both match the
 * inventory is unchanged and costs no further request.
 */
export async function compareWithCluster(input: CompareInput, alsoRead: ObjectRef[] = []): Promise<Comparison> {
  const { client, env } = input;
  const at = inventoryLocation(input.repository, env.name, env.namespace);
  const reading = input.inventory;
  reading.catch(() => undefined);
  const desired = await prepareObjects(client, input.rendered, env.namespace, at.id);
  const violations = policyViolations(
    input.grant,
    desired.map((d) => d.ref),
  );
  if (violations.length > 0) throw permanent(violations.join("\n"));
  const inventory = await reading;

  const reader = input.live ?? apiLiveReader(client);
  const live = await reader.state([...desired.map((d) => d.ref), ...inventory.objects, ...alsoRead]);
  const self = { repository: input.repository, environment: env.name };
  const leave = input.leave ?? new Set<string>();
  await checkOwnership(
    client,
    at,
    self,
    desired.filter((d) => !leave.has(d.key)),
    live,
  );
  const previous = new Map(inventory.objects.map((o) => [refKey(o), o]));
  const changed = desired.filter((d) => {
    const before = previous.get(d.key);
    const now = live.get(d.key);
    return !before || !now || before.hash !== d.hash || before.resourceVersion !== now.resourceVersion;
  });
  const desiredKeys = new Set(desired.map((d) => d.key));
  const owned = inventory.objects.filter(
    (o) => !desiredKeys.has(refKey(o)) && live.get(refKey(o))?.inventory === at.id,
  );
  const prunable = env.prune ? owned : [];
  if (pruneNamespaces(env) === "safe")
    await refuseUnsafeNamespacePrune(client, at, describeOwner(self), env.name, prunable);
  return { at, desired, inventory, live, changed, prunable, kept: env.prune ? [] : owned };
}

/**
 * Throws when a Namespace prune would delete holds objects the environment does not own: deleting
 * a Namespace deletes everything in it (Kubernetes cascades), Ferry's or not.
 */
async function refuseUnsafeNamespacePrune(
  client: KubeClient,
  at: InventoryLocation,
  owner: string,
  envName: string,
  prunable: ObjectRef[],
): Promise<void> {
  const namespaces = prunable.filter((ref) => ref.kind === "Namespace" && ref.apiVersion === "v1");
  const ownInventory = new Set([
    refKey({ apiVersion: "v1", kind: "ConfigMap", namespace: at.namespace, name: at.name }),
  ]);
  const problems: string[] = [];
  for (const ns of namespaces) {
    const found = await namespaceStrangers(client, ns.name, at.id, ownInventory);
    if (found.count === 0 && found.unlisted.length === 0) continue;
    const more = found.count > found.some.length ? `, and ${found.count - found.some.length} more` : "";
    const listed =
      found.count > 0
        ? `holds ${found.count} object${found.count === 1 ? "" : "s"} ${owner} does not own (${found.some.map(describeRef).join(", ")}${more})`
        : "";
    const unlisted =
      found.unlisted.length > 0
        ? `${listed ? "; and " : ""}could not list ${found.unlisted.join(", ")}, which may hold more`
        : "";
    problems.push(`${describeRef(ns)}: Ferry would prune it, but it ${listed}${unlisted}`);
  }
  if (problems.length === 0) return;
  throw permanent(
    [
      ...problems,
      `(deleting a Namespace deletes everything in it, so Ferry applies nothing to ${owner}; keep the Namespace in Git, move those objects out, ` +
        `or set pruneNamespaces: cascade on environment ${envName} to delete it with everything inside)`,
    ].join("\n"),
  );
}
