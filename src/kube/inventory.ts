import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { transient } from "../errors.js";
import { apiError, type KubeClient } from "./kube-client.js";
import { FIELD_MANAGER, MANAGED_BY_LABEL } from "./labels.js";
import type { ObjectRef } from "./object-ref.js";

/** One object an environment owns, with what Ferry last applied and the version that produced. */
export interface InventoryEntry extends ObjectRef {
  hash: string;
  resourceVersion: string;
}

/** One release of an environment, kept as history. */
export interface ReleaseRecord {
  sha: string;
  /** ISO time the release finished. */
  time: string;
  /** Who merged or pushed. */
  actor: string;
  /**
   * `waiting`: applied, health not yet known (a worker that stopped mid-wait leaves it so, and the
   * retried job releases again); `superseded`: a newer release took the environment before this one
   * was known healthy.
   */
  result: "success" | "failure" | "waiting" | "superseded";
  /** Short outcome, e.g. `+2 ~1 -1`. */
  summary: string;
  /**
   * True for a heal: the same commit applied again to undo drift. It counts as a successful release
   * of its commit (an "already released" check and a rollback treat it so); consecutive heals of one
   * commit keep only the newest.
   */
  heal?: boolean;
}

/** The record, kept in the target cluster, of which objects an environment owns and of its last releases. */
export interface Inventory {
  repository: string;
  environment: string;
  objects: InventoryEntry[];
  /** Newest first. */
  releases: ReleaseRecord[];
}

/** Annotations of an inventory ConfigMap naming whose it is (see {@link readInventoryOwner}). */
const REPOSITORY_ANNOTATION = "ferry.dev/repository";
const ENVIRONMENT_ANNOTATION = "ferry.dev/environment";

/** Releases kept in the history. */
const HISTORY = 20;

/** Where an environment's inventory lives: a ConfigMap in the environment's namespace. */
export interface InventoryLocation {
  namespace: string;
  name: string;
  /** `namespace/name`, the value of the owner annotation on every object. */
  id: string;
}

/** The inventory location of an environment of a repository (the name carries a hash of the repository, so two repositories never share one). */
export function inventoryLocation(repository: string, environment: string, namespace: string): InventoryLocation {
  const digest = createHash("sha256").update(repository).digest("hex").slice(0, 10);
  const name = `ferry-${environment}-${digest}`.slice(0, 63);
  return { namespace, name, id: `${namespace}/${name}` };
}

/** Reads an environment's inventory; an empty one when it has never been released. */
export async function readInventory(
  client: KubeClient,
  at: InventoryLocation,
  repository: string,
  environment: string,
): Promise<Inventory> {
  const res = await client.request("GET", `/api/v1/namespaces/${at.namespace}/configmaps/${at.name}`);
  if (res.status === 404) return { repository, environment, objects: [], releases: [] };
  if (res.status !== 200) throw transient(`reading inventory ${at.id}: ${apiError(res).message}`);
  const data = (res.body as { binaryData?: Record<string, string> }).binaryData?.["inventory.json.gz"];
  if (!data) return { repository, environment, objects: [], releases: [] };
  return JSON.parse(gunzipSync(Buffer.from(data, "base64")).toString("utf8")) as Inventory;
}

/**
 * Writes the inventory (gzip-compressed, so thousands of objects fit a ConfigMap's 1 MiB) with the
 * newest release first and the history capped.
 */
export async function writeInventory(client: KubeClient, at: InventoryLocation, inventory: Inventory): Promise<void> {
  const body = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: at.name,
      namespace: at.namespace,
      labels: { [MANAGED_BY_LABEL]: "ferry", "ferry.dev/role": "inventory" },
      annotations: { [REPOSITORY_ANNOTATION]: inventory.repository, [ENVIRONMENT_ANNOTATION]: inventory.environment },
    },
    binaryData: {
      "inventory.json.gz": gzipSync(
        JSON.stringify({ ...inventory, releases: inventory.releases.slice(0, HISTORY) }),
      ).toString("base64"),
    },
  };
  await client.call(
    "PATCH",
    `/api/v1/namespaces/${at.namespace}/configmaps/${at.name}?fieldManager=${FIELD_MANAGER}&force=true`,
    body,
    "application/apply-patch+yaml",
  );
}

/** The environment an inventory belongs to, as its ConfigMap's annotations name it. */
export interface InventoryOwner {
  repository: string;
  environment: string;
}

/**
 * Whose inventory `id` (`namespace/name`, an owner annotation's value) is, read from its ConfigMap's
 * annotations (metadata only); `undefined` when it does not exist, `"unreadable"` when the credentials
 * may not read it or it names no owner.
 */
export async function readInventoryOwner(
  client: KubeClient,
  id: string,
): Promise<InventoryOwner | undefined | "unreadable"> {
  const [namespace = "", name = ""] = id.split("/");
  if (namespace === "" || name === "") return "unreadable";
  const accept = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
  const res = await client.request(
    "GET",
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`,
    undefined,
    undefined,
    accept,
  );
  if (res.status === 404) return undefined;
  if (res.status >= 500 || res.status === 429) throw transient(`reading inventory ${id}: ${apiError(res).message}`);
  if (res.status !== 200) return "unreadable";
  const annotations = (res.body as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations ?? {};
  const repository = annotations[REPOSITORY_ANNOTATION];
  const environment = annotations[ENVIRONMENT_ANNOTATION];
  return repository !== undefined && environment !== undefined ? { repository, environment } : "unreadable";
}

/** How messages name an environment: `acme/shop@staging`. */
export function describeOwner(owner: InventoryOwner): string {
  return `${owner.repository}@${owner.environment}`;
}
