import { serverSideApply, type RefusedObject } from "../kube/apply.js";
import { applyWaves } from "../kube/apply-order.js";
import type { DesiredObject } from "../kube/desired-object.js";
import type { KubeClient } from "../kube/kube-client.js";
import { apiLiveReader, readLiveObjects, readLiveState } from "../kube/live-state.js";
import { describeRef, refKey } from "../kube/object-ref.js";
import { diffObjects } from "../plan/diff-objects.js";
import { asStored, projectLive } from "../plan/project-live.js";
import type { EnvironmentPlan, ObjectPlan } from "../plan/types.js";
import { inventoryLocation, readInventory } from "../kube/inventory.js";
import type { RenderedObject } from "../render/types.js";
import { checkDryRun } from "./check-dry-run.js";
import { compareWithCluster, type ReleaseTarget } from "./compare-with-cluster.js";
import { inNamespace, namespaceRef, VALIDATION_NAMESPACE, validationNamespaceMissing } from "./validation-namespace.js";

/** Objects read again after their dry-run are read by a GET each up to this many per (kind, namespace). */
const REREAD_GET_AT_MOST = 32;

/** How many objects a note lists by name before saying how many more. */
const NOTE_NAMES = 5;

/**
 * Plans one commit for one environment: what a release would create, update, delete, or leave
 * unchanged. An update's diff compares the live object with the server's dry-run result of applying
 * the new one (as `kubectl diff --server-side` does), both normalised, Secret values masked. Objects
 * whose manifest and live version match the last release are unchanged without asking the server.
 * An object a webhook without dry-run support keeps from being dry-run fails the plan, or with
 * `validation.unsupportedDryRun: skip` is planned with `notDryRunBy` naming the webhook, as a release
 * would apply it. Objects in a namespace that does not exist yet are dry-run in the validation
 * namespace, which must exist (installation creates it); the plan's notes say so. A dry-run the
 * credentials may not make (read-only credentials: Kubernetes authorizes a dry-run as the write)
 * is planned with `dryRunForbidden`, an update diffed field by field against the live object.
 * Writes nothing. A permanent error (policy, ownership, server validation) is thrown for the caller
 * to report.
 */
export async function planEnvironment(
  input: ReleaseTarget & { rendered: RenderedObject[]; sha: string },
): Promise<EnvironmentPlan> {
  const { client, env } = input;
  const validationNamespace = input.validationNamespace ?? VALIDATION_NAMESPACE;
  const inventory = readInventory(
    client,
    inventoryLocation(input.repository, env.name, env.namespace),
    input.repository,
    env.name,
  );
  const {
    desired,
    live,
    changed: candidates,
    prunable: gone,
    kept,
  } = await compareWithCluster({ ...input, inventory });

  const creates = candidates.filter((d) => !live.has(d.key));
  const updates = candidates.filter((d) => live.has(d.key));
  const liveObjects = await (input.live ?? apiLiveReader(client)).objects([...updates.map((d) => d.ref), ...gone]);
  const createNamespaces = [...new Set(creates.map((d) => d.ref.namespace).filter((n) => n !== undefined))];
  const namespaces = await readLiveState(client, [...createNamespaces, validationNamespace].map(namespaceRef));
  const missingNamespace = (d: DesiredObject) =>
    d.ref.namespace !== undefined && !namespaces.has(refKey(namespaceRef(d.ref.namespace)));
  // Creates are validated with a dry-run create (in the validation namespace when theirs does not
  // exist yet, so they still plan as creates); updates with a dry-run apply, whose result is the diff's "after".
  const validateCreates = creates.filter((d) => !d.pendingCrd);
  const moved = validateCreates.filter(missingNamespace);
  if (moved.length > 0 && !namespaces.has(refKey(namespaceRef(validationNamespace)))) {
    throw validationNamespaceMissing(moved, validationNamespace, env.cluster, "a release would fail the same way");
  }
  const [created, updated] = await Promise.all([
    serverSideApply(
      client,
      validateCreates.map((d) => (missingNamespace(d) ? inNamespace(d, validationNamespace) : d)),
      { dryRun: true, absent: new Set(validateCreates.map((d) => d.key)) },
    ),
    serverSideApply(client, updates, { dryRun: true }),
  ]);
  const refused = [...created.refused, ...updated.refused].map((r) => ({
    ...r,
    object: candidates.find((d) => d.key === r.object.key) ?? r.object,
  }));
  const forbidden = new Map(refused.filter(isForbidden).map((r) => [r.object.key, r.message]));
  const notDryRun = new Map(
    checkDryRun(
      env,
      refused.filter((r) => !isForbidden(r)),
      "server-side validation: merging this would fail",
    ).map((n) => [n.object.key, n.webhook]),
  );

  const after = new Map(updated.applied.map((a) => [a.key, a.result]));
  await rereadChanged(client, updates, liveObjects, after);
  // Decrypted values are hidden in every diff, whichever object they moved into (or out of).
  const decrypted = [...new Set(input.rendered.flatMap((r) => r.secrets ?? []))].sort((a, b) => b.length - a.length);
  const objects: ObjectPlan[] = [];
  for (const wave of applyWaves(candidates, (d) => d.ref.kind)) {
    for (const d of wave) {
      const webhook = notDryRun.get(d.key);
      const denied = forbidden.get(d.key);
      const unvalidated = {
        ...(webhook === undefined ? {} : { notDryRunBy: webhook }),
        ...(denied === undefined ? {} : { dryRunForbidden: denied }),
      };
      if (!live.has(d.key)) {
        objects.push({
          ref: d.ref,
          action: "create",
          source: d.source,
          diff: diffObjects(undefined, d.object, decrypted),
          ...unvalidated,
        });
        continue;
      }
      const current = liveObjects.get(d.key);
      const diff =
        denied !== undefined
          ? diffObjects(
              current && (projectLive(current, asStored(d.object)) as Record<string, unknown>),
              asStored(d.object),
              decrypted,
            )
          : webhook === undefined
            ? diffObjects(current, after.get(d.key), decrypted)
            : "";
      if (diff !== "" || webhook !== undefined)
        objects.push({ ref: d.ref, action: "update", source: d.source, diff, ...unvalidated });
    }
  }
  for (const ref of gone)
    objects.push({ ref, action: "delete", diff: diffObjects(liveObjects.get(refKey(ref)), undefined, decrypted) });
  const count = (action: ObjectPlan["action"]) => objects.filter((o) => o.action === action).length;
  const released = (await inventory).releases.find((r) => r.result === "success")?.sha;
  const notes = [
    ...[...new Set(moved.map((d) => d.ref.namespace ?? ""))].map((ns) => {
      const n = moved.filter((d) => d.ref.namespace === ns).length;
      return `namespace ${ns} does not exist yet (a release creates it): its ${n === 1 ? "object is" : `${n} objects are`} dry-run in ${validationNamespace}`;
    }),
    ...(kept.length > 0
      ? [
          `prune is off for ${env.name}: ${names(kept.map(describeRef))} no longer in Git ${kept.length === 1 ? "stays" : "stay"} on the cluster`,
        ]
      : []),
  ];
  return {
    environment: env.name,
    cluster: env.cluster,
    sha: input.sha,
    ...(released === undefined ? {} : { releasedSha: released }),
    objects,
    counts: {
      create: count("create"),
      update: count("update"),
      delete: count("delete"),
      unchanged: desired.length - count("create") - count("update"),
    },
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/**
 * Reads again, from the API server, each updated object whose dry-run answered with a newer version
 * than the live object read before it: it changed in between (or a watch cache had not seen the
 * change yet), and the diff must start from the object the dry-run merged into.
 */
async function rereadChanged(
  client: KubeClient,
  updates: DesiredObject[],
  liveObjects: Map<string, Record<string, unknown>>,
  after: Map<string, Record<string, unknown>>,
): Promise<void> {
  const versionOf = (object: Record<string, unknown> | undefined) =>
    (object?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
  const moved = updates.filter(
    (d) => after.has(d.key) && versionOf(after.get(d.key)) !== versionOf(liveObjects.get(d.key)),
  );
  if (moved.length === 0) return;
  const fresh = await readLiveObjects(
    client,
    moved.map((d) => d.ref),
    { getAtMost: REREAD_GET_AT_MOST },
  );
  for (const d of moved) {
    const object = fresh.get(d.key);
    if (object) liveObjects.set(d.key, object);
    else liveObjects.delete(d.key);
  }
}

/**
 * True when the server's authorizer refused a dry-run because the credentials may not make the write
 * (`configmaps "a" is forbidden: User "..." cannot patch resource "configmaps"...`); not an admission
 * webhook's or a quota's refusal, which are 403s too but judge the object.
 */
function isForbidden(r: RefusedObject): boolean {
  return r.status === 403 && /is forbidden: User "[^"]*" cannot [a-z]+ resource /.test(r.message);
}

/** The first few names, then how many more. */
function names(all: string[]): string {
  return all.length <= NOTE_NAMES
    ? all.join(", ")
    : `${all.slice(0, NOTE_NAMES).join(", ")} and ${all.length - NOTE_NAMES} more`;
}
