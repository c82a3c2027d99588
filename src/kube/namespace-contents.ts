import pLimit from "p-limit";
import { transient } from "../errors.js";
import { apiError, isTransientStatus, type KubeClient } from "./kube-client.js";
import { INVENTORY_ANNOTATION } from "./labels.js";
import { groupOf, refKey, type ObjectRef } from "./object-ref.js";

/** Kinds Kubernetes writes into namespaces by itself, for objects already there (`group/Kind`): no one's to keep. */
const SKIPPED_KINDS = new Set(["/Event", "events.k8s.io/Event", "/Endpoints", "discovery.k8s.io/EndpointSlice"]);

/** Objects Kubernetes puts in every namespace (`Kind/name`): the default ServiceAccount and the cluster's CA bundle. */
const SKIPPED_OBJECTS = new Set(["ServiceAccount/default", "ConfigMap/kube-root-ca.crt"]);

/** LISTs of a namespace's kinds in flight at once. */
const LIST_CONCURRENCY = 8;

/** What a Namespace holds besides what an environment owns. */
export interface NamespaceStrangers {
  /** The first few objects found, in discovery order. */
  some: ObjectRef[];
  /** How many there are in all. */
  count: number;
  /** Kinds that could not be listed (`rolebindings.rbac.authorization.k8s.io: forbidden`): they may hold more. */
  unlisted: string[];
}

/** A listed object's metadata, as far as this reads it. */
interface ListedMetadata {
  name: string;
  annotations?: Record<string, string>;
  ownerReferences?: unknown[];
  deletionTimestamp?: string;
}

/**
 * The objects in `namespace` that deleting it would delete with it and that the environment of
 * inventory `inventoryId` does not own: every kind discovery lists as namespaced and deletable,
 * LISTed metadata only. Not counted: objects whose owner annotation names the inventory, `ignore`
 * (the environment's own inventory ConfigMap), objects already being deleted, objects with an
 * owner reference (a controller made them, and their owner is counted if it is not the
 * environment's), and what Kubernetes puts in every namespace by itself (Events, Endpoints,
 * EndpointSlices, the `default` ServiceAccount, the `kube-root-ca.crt` ConfigMap).
 */
export async function namespaceStrangers(
  client: KubeClient,
  namespace: string,
  inventoryId: string,
  ignore: Set<string>,
  few = 5,
): Promise<NamespaceStrangers> {
  const kinds = (await client.namespacedKinds()).filter(
    (k) =>
      k.verbs.includes("list") &&
      k.verbs.includes("delete") &&
      !SKIPPED_KINDS.has(`${groupOf(k.apiVersion)}/${k.kind}`),
  );
  const limit = pLimit(LIST_CONCURRENCY);
  const accept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
  const found = await Promise.all(
    kinds.map((k) =>
      limit(async () => {
        const strangers: ObjectRef[] = [];
        const path = await client.path({ apiVersion: k.apiVersion, kind: k.kind, namespace });
        let next: string | undefined = "";
        while (next !== undefined) {
          const res = await client.request(
            "GET",
            `${path}?limit=500${next ? `&continue=${encodeURIComponent(next)}` : ""}`,
            undefined,
            undefined,
            accept,
          );
          if (res.status === 404) break;
          if (isTransientStatus(res.status))
            throw transient(`listing ${k.plural} in namespace ${namespace}: ${apiError(res).message}`);
          if (res.status !== 200)
            return {
              strangers,
              unlisted: `${[k.plural, groupOf(k.apiVersion)].filter(Boolean).join(".")}: ${apiError(res).reason}`,
            };
          const list = res.body as { metadata?: { continue?: string }; items?: Array<{ metadata: ListedMetadata }> };
          for (const { metadata } of list.items ?? []) {
            const ref: ObjectRef = { apiVersion: k.apiVersion, kind: k.kind, namespace, name: metadata.name };
            if (metadata.annotations?.[INVENTORY_ANNOTATION] === inventoryId || ignore.has(refKey(ref))) continue;
            if (metadata.deletionTimestamp !== undefined || (metadata.ownerReferences?.length ?? 0) > 0) continue;
            if (SKIPPED_OBJECTS.has(`${k.kind}/${metadata.name}`)) continue;
            strangers.push(ref);
          }
          next = list.metadata?.continue || undefined;
        }
        return { strangers, unlisted: undefined };
      }),
    ),
  );
  const all = found.flatMap((f) => f.strangers);
  return {
    some: all.slice(0, few),
    count: all.length,
    unlisted: found.map((f) => f.unlisted).filter((u) => u !== undefined),
  };
}
