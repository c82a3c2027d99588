import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { permanent } from "../errors.js";
import { parseBoundedYaml } from "../yaml/yaml-nesting.js";

/** How to reach and authenticate to one API server. */
export interface ClusterConnection {
  /** The API server's URL, e.g. `https://10.0.0.1:6443`. */
  server: string;
  /** CA certificates to trust (PEM); the system's when absent. */
  ca?: Buffer;
  /** Client certificate (PEM). */
  cert?: Buffer;
  /** Client key (PEM). */
  key?: Buffer;
  /** False only when the kubeconfig says `insecure-skip-tls-verify: true`. */
  rejectUnauthorized: boolean;
  /** Headers sent with every request (`authorization`, lower-cased names). */
  headers: Record<string, string>;
}

/**
 * What a kubeconfig context gives: a static connection (client certificates, bearer tokens, token
 * files, basic auth), or `plugin` when its user authenticates through an `exec` or `auth-provider`
 * plugin, which only @kubernetes/client-node runs.
 */
export type KubeconfigContext = { kind: "static"; connection: ClusterConnection } | { kind: "plugin" };

/** Where the service account of a pod is mounted. */
const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

/** A kubeconfig file's named entries, each with the directory its relative paths are resolved from. */
interface Entries {
  clusters: Map<string, { value: Record<string, unknown>; dir: string }>;
  users: Map<string, { value: Record<string, unknown>; dir: string }>;
  contexts: Map<string, Record<string, unknown>>;
}

/**
 * Reads context `context` from the kubeconfig `file`, or from the files $KUBECONFIG lists (merged as
 * kubectl merges them: the first file naming an entry wins), else `~/.kube/config`. Relative paths
 * in a file are relative to that file's directory. Throws a permanent error naming `what` (the
 * cluster, for messages) when a file cannot be read or the context, its cluster or its user is missing.
 *
 * Why not @kubernetes/client-node's KubeConfig: importing it loads the whole generated API client,
 * about 70 MB of a worker's memory, to read a few fields; it is still used for plugin users.
 */
export async function readKubeconfigContext(options: {
  file?: string;
  context: string;
  what: string;
  env?: NodeJS.ProcessEnv;
}): Promise<KubeconfigContext> {
  const env = options.env ?? process.env;
  const files =
    options.file !== undefined ? [options.file] : (env.KUBECONFIG ?? "").split(path.delimiter).filter((f) => f !== "");
  const entries: Entries = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of files.length > 0 ? files : [path.join(homedir(), ".kube", "config")])
    await addFile(entries, path.resolve(file), options.what);
  const context = entries.contexts.get(options.context);
  if (context === undefined) throw permanent(`${options.what}: no context "${options.context}" in the kubeconfig`);
  const clusterName = stringAt(context, "cluster");
  const cluster = clusterName === undefined ? undefined : entries.clusters.get(clusterName);
  if (cluster === undefined)
    throw permanent(`${options.what}: context "${options.context}" names no cluster the kubeconfig has`);
  const userName = stringAt(context, "user");
  const user = userName === undefined ? { value: {}, dir: cluster.dir } : entries.users.get(userName);
  if (user === undefined)
    throw permanent(`${options.what}: context "${options.context}" names no user the kubeconfig has`);
  if (user.value.exec !== undefined || user.value["auth-provider"] !== undefined) return { kind: "plugin" };

  const server = stringAt(cluster.value, "server");
  if (server === undefined)
    throw permanent(`${options.what}: cluster "${clusterName}" in the kubeconfig has no server`);
  const read = (entry: { value: Record<string, unknown>; dir: string }, field: string) =>
    material(entry, field, options.what);
  const headers: Record<string, string> = {};
  const token = stringAt(user.value, "token") ?? (await read(user, "tokenFile"))?.toString("utf8").trim();
  const username = stringAt(user.value, "username");
  if (token !== undefined && token !== "") headers.authorization = `Bearer ${token}`;
  else if (username !== undefined)
    headers.authorization = `Basic ${Buffer.from(`${username}:${stringAt(user.value, "password") ?? ""}`).toString("base64")}`;
  const connection: ClusterConnection = {
    server,
    rejectUnauthorized: cluster.value["insecure-skip-tls-verify"] !== true,
    headers,
  };
  const ca = await read(cluster, "certificate-authority");
  const cert = await read(user, "client-certificate");
  const key = await read(user, "client-key");
  if (ca !== undefined) connection.ca = ca;
  if (cert !== undefined) connection.cert = cert;
  if (key !== undefined) connection.key = key;
  return { kind: "static", connection };
}

/** The connection a pod has to its own cluster: the API server from the environment, the mounted service account's token and CA. */
export async function inClusterConnection(
  env: NodeJS.ProcessEnv = process.env,
  mount = SERVICE_ACCOUNT,
): Promise<ClusterConnection> {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw permanent(
      "inCluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a pod?)",
    );
  const [token, ca] = await Promise.all([
    readFile(path.join(mount, "token"), "utf8"),
    readFile(path.join(mount, "ca.crt")),
  ]).catch((error: unknown) => {
    throw permanent(
      `inCluster: cannot read the service account in ${mount}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  });
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    ca,
    rejectUnauthorized: true,
    headers: { authorization: `Bearer ${token.trim()}` },
  };
}

/** Adds a kubeconfig file's clusters, users and contexts that earlier files did not name. */
async function addFile(entries: Entries, file: string, what: string): Promise<void> {
  let document: unknown;
  try {
    document = parseBoundedYaml(await readFile(file, "utf8"), { maxAliasCount: 100 });
  } catch (error) {
    throw permanent(
      `${what}: cannot read kubeconfig ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  }
  const dir = path.dirname(file);
  for (const [list, field, into] of [
    ["clusters", "cluster", entries.clusters],
    ["users", "user", entries.users],
  ] as const) {
    for (const item of arrayAt(document, list)) {
      const name = stringAt(item, "name");
      const value = recordAt(item, field);
      if (name !== undefined && value !== undefined && !into.has(name)) into.set(name, { value, dir });
    }
  }
  for (const item of arrayAt(document, "contexts")) {
    const name = stringAt(item, "name");
    const value = recordAt(item, "context");
    if (name !== undefined && value !== undefined && !entries.contexts.has(name)) entries.contexts.set(name, value);
  }
}

/** A certificate, key or token given inline (`<field>-data`, base64) or as a file (`<field>`, relative to the kubeconfig). */
async function material(
  entry: { value: Record<string, unknown>; dir: string },
  field: string,
  what: string,
): Promise<Buffer | undefined> {
  const data = stringAt(entry.value, `${field}-data`);
  if (data !== undefined) return Buffer.from(data, "base64");
  const file = stringAt(entry.value, field);
  if (file === undefined) return undefined;
  const full = path.resolve(entry.dir, file);
  return readFile(full).catch((error: unknown) => {
    throw permanent(`${what}: cannot read ${field} ${full}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  });
}

function recordAt(value: unknown, field: string): Record<string, unknown> | undefined {
  const found = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[field] : undefined;
  return typeof found === "object" && found !== null && !Array.isArray(found)
    ? (found as Record<string, unknown>)
    : undefined;
}

function arrayAt(value: unknown, field: string): unknown[] {
  const found = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[field] : undefined;
  return Array.isArray(found) ? found : [];
}

function stringAt(value: unknown, field: string): string | undefined {
  const found = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[field] : undefined;
  return typeof found === "string" ? found : undefined;
}
