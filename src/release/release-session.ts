import { applyFieldValidation, serverSideApply, throwIfRefused, type AppliedObject } from "../kube/apply.js";
import { applyWaves, FOUNDATION_KINDS } from "../kube/apply-order.js";
import type { DesiredObject } from "../kube/desired-object.js";
import {
  inventoryLocation,
  readInventory,
  writeInventory,
  type Inventory,
  type InventoryEntry,
  type InventoryLocation,
  type ReleaseRecord,
} from "../kube/inventory.js";
import type { KubeClient } from "../kube/kube-client.js";
import { refKey } from "../kube/object-ref.js";
import { prune } from "../kube/prune.js";
import { waitForCrds } from "../kube/wait-for-crds.js";
import type { RenderedObject } from "../render/types.js";
import type { ReleaseResult } from "../domain/release.js";
import { checkDryRun } from "./check-dry-run.js";
import { compareWithCluster, type ReleaseTarget } from "./compare-with-cluster.js";
import {
  ensureNamespace,
  inNamespace,
  namespaceRef,
  VALIDATION_NAMESPACE,
  validationNamespaceMissing,
} from "./validation-namespace.js";

/** How {@link ReleaseSession.apply} may be narrowed. */
export interface ApplyOptions {
  /**
   * Ref keys of objects left as they are even when their live version moved (a heal leaves objects
   * marked `ferry.dev/drift: ignore` and those another inventory took over): neither validated nor
   * applied, and kept in the inventory with the version it had.
   */
  leave?: ReadonlySet<string>;
}

/** What an apply left to record: the objects the environment now owns, and the release's summary. */
interface Applied {
  sha: string;
  actor: string;
  objects: InventoryEntry[];
  summary: string;
}

/**
 * One environment on one cluster, from reading its inventory to recording a verdict: the inventory
 * is read once when the session opens and written once when {@link record} records how the release
 * ended (a rollback in the same session applies and records again). Not shared between jobs.
 */
export class ReleaseSession {
  /** Where the environment's inventory lives on the cluster. */
  readonly at: InventoryLocation;
  private inventory: Promise<Inventory>;
  private applied: Applied | undefined;

  /** Opens the session and starts reading the inventory. */
  constructor(readonly target: ReleaseTarget) {
    this.at = inventoryLocation(target.repository, target.env.name, target.env.namespace);
    this.inventory = readInventory(target.client, this.at, target.repository, target.env.name);
    this.inventory.catch(() => undefined);
  }

  /** The environment's recorded releases on this cluster, newest first. */
  async history(): Promise<ReleaseRecord[]> {
    return (await this.inventory).releases;
  }

  /**
   * Releases `rendered` as commit `sha`: prepare → check policy → compare with the inventory and the
   * live objects (refusing to take over another environment's objects, or to prune a Namespace
   * holding objects it does not own) → validate every changed object with a server-side dry-run →
   * apply in order → prune. Nothing is written unless every object validated (objects in a
   * namespace the release creates are dry-run in the validation namespace, which must exist; objects
   * of a CRD the release creates, right after it is established), or, with
   * `validation.unsupportedDryRun: skip`, could not be dry-run only because an admission webhook on
   * its kind does not support dry run (the result lists those as `notDryRun`). The result is
   * recorded by {@link record}; a release that fails part way records its failure itself.
   */
  async apply(
    rendered: RenderedObject[],
    sha: string,
    actor: string,
    options: ApplyOptions = {},
  ): Promise<ReleaseResult> {
    const { client, env } = this.target;
    const validationNamespace = this.target.validationNamespace ?? VALIDATION_NAMESPACE;
    const ownNamespace = namespaceRef(env.namespace);
    const validationRef = namespaceRef(validationNamespace);
    const leave = options.leave ?? new Set<string>();
    const compared = await compareWithCluster({ ...this.target, rendered, inventory: this.inventory, leave }, [
      ownNamespace,
      validationRef,
    ]);
    const { at, desired, inventory, live, prunable } = compared;
    const changed = compared.changed.filter((d) => !leave.has(d.key));
    const desiredKeys = new Set(desired.map((d) => d.key));
    // An object left alone keeps the version the inventory had, so the next release still sees it moved.
    const before = new Map(inventory.objects.map((o) => [refKey(o), o.resourceVersion]));

    // Namespaces this release brings into being. The server cannot dry-run an object in a namespace
    // that does not exist, so such objects are validated in Ferry's empty validation namespace instead
    // (installation creates it; a release does not): an invalid manifest then writes nothing, not
    // even the namespace. Objects of a CRD the release itself creates can only be validated once the
    // CRD is established.
    const newNamespaces = new Set(
      desired.filter((d) => d.ref.kind === "Namespace" && !live.has(d.key)).map((d) => d.ref.name),
    );
    if (!live.has(refKey(ownNamespace))) newNamespaces.add(env.namespace);
    const inNewNamespace = (d: DesiredObject) => d.ref.namespace !== undefined && newNamespaces.has(d.ref.namespace);
    const validateNow = changed.filter((d) => !d.pendingCrd);
    // The live state read above says whether the validation namespace exists.
    const moved = validateNow.filter(inNewNamespace);
    if (moved.length > 0 && !live.has(refKey(validationRef)))
      throw validationNamespaceMissing(moved, validationNamespace, env.cluster, "nothing was applied");
    const absent = new Set(changed.filter((d) => !live.has(d.key)).map((d) => d.key));
    const { refused } = await serverSideApply(
      client,
      validateNow.map((d) => (inNewNamespace(d) ? inNamespace(d, validationNamespace) : d)),
      { dryRun: true, absent, metadataOnly: true },
    );
    const notDryRun = checkDryRun(
      env,
      refused.map((r) => ({ ...r, object: changed.find((d) => d.key === r.object.key) ?? r.object })),
      "server-side validation failed: nothing was applied",
    );

    const applied: AppliedObject[] = [];
    const entries = (): InventoryEntry[] => {
      const appliedByKey = new Map(applied.map((a) => [a.key, a]));
      const version = (d: DesiredObject) =>
        (leave.has(d.key) ? before.get(d.key) : undefined) ??
        appliedByKey.get(d.key)?.resourceVersion ??
        live.get(d.key)?.resourceVersion ??
        "";
      return desired.map((d) => ({ ...d.ref, hash: d.hash, resourceVersion: version(d) }));
    };
    try {
      if (newNamespaces.has(env.namespace) && !desired.some((d) => d.key === refKey(ownNamespace)))
        await ensureNamespace(client, env.namespace);
      const foundation = changed.filter((d) => FOUNDATION_KINDS.has(d.ref.kind));
      const crds = foundation.filter((d) => d.ref.kind === "CustomResourceDefinition").map((d) => d.ref.name);
      const unvalidated = new Set(notDryRun.map((n) => n.object.key));
      await applyChecked(client, foundation, applied, applyFieldValidation(false), unvalidated);
      await waitForCrds(client, crds);
      const rest = changed.filter((d) => !FOUNDATION_KINDS.has(d.ref.kind));
      const late = await serverSideApply(
        client,
        rest.filter((d) => d.pendingCrd),
        { dryRun: true, absent, metadataOnly: true },
      );
      for (const n of checkDryRun(
        env,
        late.refused,
        "server-side validation failed after creating CRDs: nothing else was applied",
      )) {
        notDryRun.push(n);
        unvalidated.add(n.object.key);
      }
      for (const wave of applyWaves(rest, (d) => d.ref.kind))
        await applyChecked(client, wave, applied, applyFieldValidation(crds.length > 0), unvalidated);
      const pruned = await prune(client, prunable, live, at.id);
      const appliedByKey = new Map(applied.map((a) => [a.key, a]));
      const result: ReleaseResult = {
        created: changed.filter((d) => appliedByKey.get(d.key)?.created).map((d) => d.ref),
        configured: changed
          .filter((d) => {
            const a = appliedByKey.get(d.key);
            return a && !a.created && a.resourceVersion !== live.get(d.key)?.resourceVersion;
          })
          .map((d) => d.ref),
        unchanged: 0,
        pruned,
        objects: desired.map((d) => d.ref),
      };
      if (notDryRun.length > 0) result.notDryRun = notDryRun.map((n) => ({ ref: n.object.ref, webhook: n.webhook }));
      result.unchanged = desired.length - result.created.length - result.configured.length;
      this.applied = {
        sha,
        actor,
        objects: entries(),
        summary: `+${result.created.length} ~${result.configured.length} -${pruned.length}`,
      };
      return result;
    } catch (error) {
      if (applied.length > 0) {
        // A release that failed part way still owns what it owned before, so a later release can prune it.
        const kept = inventory.objects.filter((o) => !desiredKeys.has(refKey(o)));
        this.applied = { sha, actor, objects: [...entries(), ...kept], summary: "" };
        await this.record("failure", error instanceof Error ? (error.message.split("\n")[0] ?? "") : "failed").catch(
          () => undefined,
        );
      }
      throw error;
    }
  }

  /**
   * Records how the last {@link apply} ended, with the objects it left the environment owning.
   * The objects stay as they are whatever the verdict: applied is applied, healthy or not.
   */
  async record(result: ReleaseRecord["result"], summary?: string, options: { heal?: boolean } = {}): Promise<void> {
    const applied = this.applied;
    if (!applied) return;
    const inventory = await this.inventory;
    const release: ReleaseRecord = {
      sha: applied.sha,
      time: new Date().toISOString(),
      actor: applied.actor,
      result,
      summary: summary ?? applied.summary,
      ...(options.heal ? { heal: true } : {}),
    };
    // Heals of one release replace each other, so drift healed every interval never pushes releases out of the history.
    const [newest, ...older] = inventory.releases;
    const kept = options.heal && newest?.heal && newest.sha === release.sha ? older : inventory.releases;
    const next: Inventory = { ...inventory, objects: applied.objects, releases: [release, ...kept] };
    await writeInventory(this.target.client, this.at, next);
    this.inventory = Promise.resolve(next);
    this.applied = undefined;
  }
}

/**
 * Applies one wave. `fieldValidation` holds for objects a strict dry-run accepted; the keys in
 * `unvalidated` had no dry-run, so they are applied `Strict` whatever it says.
 */
async function applyChecked(
  client: KubeClient,
  objects: DesiredObject[],
  applied: AppliedObject[],
  fieldValidation: "Strict" | "Ignore",
  unvalidated: Set<string>,
): Promise<void> {
  const batches: Array<[DesiredObject[], "Strict" | "Ignore"]> = [
    [objects.filter((d) => !unvalidated.has(d.key)), fieldValidation],
    [objects.filter((d) => unvalidated.has(d.key)), "Strict"],
  ];
  for (const [batch, validation] of batches) {
    if (batch.length === 0) continue;
    const out = await serverSideApply(client, batch, { metadataOnly: true, fieldValidation: validation });
    applied.push(...out.applied);
    throwIfRefused(out.refused, "the apply failed part way: objects before this one were applied");
  }
}

/** Releases `rendered` as `sha` in a session of its own and records it as successful at once: a release that does not wait for health. */
export async function releaseEnvironment(
  input: ReleaseTarget & { rendered: RenderedObject[]; sha: string; actor: string },
): Promise<ReleaseResult> {
  const session = new ReleaseSession(input);
  const result = await session.apply(input.rendered, input.sha, input.actor);
  await session.record("success");
  return result;
}
