import type { RequestOptions } from "node:https";
// Type only: loading @kubernetes/client-node costs a worker ~70 MB, so connections come from ./kubeconfig.js.
import type { KubeConfig } from "@kubernetes/client-node";
import { Pool, type Dispatcher } from "undici";
import { permanent, transient } from "../errors.js";
import type { ClusterConnection } from "./kubeconfig.js";
import { secureContextFor } from "./secure-context.js";
import { groupOf } from "./object-ref.js";

/** What the API server says about a kind: its resource path segment and whether it is namespaced. */
export interface ResourceInfo {
  /** Plural resource name, e.g. `deployments`. */
  plural: string;
  namespaced: boolean;
  /** What the server lets clients do with it (`get`, `list`, `delete`...). */
  verbs: string[];
}

/** A kind the server serves, in its group's preferred version. */
export interface ServedKind extends ResourceInfo {
  apiVersion: string;
  kind: string;
}

/** An API server response. */
export interface KubeResponse {
  status: number;
  /** Parsed JSON body (a Kubernetes object, list or Status). */
  body: unknown;
}

/** One event of a watch, as the API server streams it. */
export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  /** The object (for ERROR, a Status; for BOOKMARK, only its kind and metadata.resourceVersion). */
  object: {
    metadata?: { name?: string; namespace?: string; resourceVersion?: string };
    code?: number;
    message?: string;
  } & Record<string, unknown>;
}

/** A Kubernetes `Status` as the API server returns it on errors. */
export interface KubeStatus {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: Array<{ message?: string; field?: string }> };
}

/** An error answer from the API server, kept with its status code and reason. */
export class KubeApiError extends Error {
  /** Builds the error from the response. */
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

/** Content type of a server-side apply. */
const APPLY_PATCH = "application/apply-patch+yaml";

/** How many connections one client keeps open to one API server. */
const MAX_CONNECTIONS = 32;

/**
 * A small HTTP client for one API server: auth and TLS come from the kubeconfig (./kubeconfig.js
 * reads certificates and tokens; @kubernetes/client-node's KubeConfig runs exec and auth-provider
 * plugins); requests go through an undici connection pool, so a release of a thousand objects reuses a few kept-alive connections rather than making a TLS
 * handshake per object, at a fraction of node:https's CPU per request (the client shares the
 * machine with the API server, so its CPU is release time).
 */
export class KubeClient {
  private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();

  private watchPool: Pool | undefined;

  private constructor(
    private readonly server: URL,
    private readonly headers: Record<string, string>,
    private readonly pool: Pool,
    private readonly connectOptions: Pick<Pool.Options, "connect">,
  ) {}

  /** Connects to the current context of `kc` (for users whose auth plugin only @kubernetes/client-node runs). */
  static async fromKubeConfig(kc: KubeConfig): Promise<KubeClient> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw permanent("kubeconfig has no current cluster");
    const options: RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {}))
      if (value !== undefined) headers[name.toLowerCase()] = String(value);
    const pem = (value: unknown) =>
      typeof value === "string" || Buffer.isBuffer(value) ? Buffer.from(value) : undefined;
    const connection: ClusterConnection = {
      server: cluster.server,
      rejectUnauthorized: options.rejectUnauthorized !== false,
      headers,
    };
    const [ca, cert, key] = [pem(options.ca), pem(options.cert), pem(options.key)];
    if (ca) connection.ca = ca;
    if (cert) connection.cert = cert;
    if (key) connection.key = key;
    return KubeClient.fromConnection(connection);
  }

  /** Connects to the API server `connection` describes. */
  static fromConnection(connection: ClusterConnection): KubeClient {
    const server = new URL(connection.server);
    const connect = {
      connect:
        server.protocol === "https:"
          ? { secureContext: secureContextFor(connection), rejectUnauthorized: connection.rejectUnauthorized }
          : {},
    };
    const pool = new Pool(server.origin, {
      connections: MAX_CONNECTIONS,
      ...connect,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    return new KubeClient(server, { ...connection.headers }, pool, connect);
  }

  /** Closes the kept-alive connections, and any watch. */
  close(): void {
    void this.pool.destroy();
    void this.watchPool?.destroy();
  }

  /** Sends one request; resolves with any HTTP answer, rejects with a transient error when the server cannot be reached. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
    accept = "application/json",
  ): Promise<KubeResponse> {
    // An apply patch is parsed as YAML (go-yaml), which reads JSON on one long line at twice the CPU
    // and three times the garbage of the same JSON broken into lines.
    const payload =
      body === undefined
        ? undefined
        : contentType === APPLY_PATCH
          ? JSON.stringify(body, null, 1)
          : JSON.stringify(body);
    const headers: Record<string, string> = { ...this.headers, accept };
    if (payload !== undefined) headers["content-type"] = contentType;
    let res: { status: number; text: string };
    try {
      res = await this.send({ method, path, headers, body: payload });
    } catch (error) {
      throw transient(
        `Kubernetes API ${this.server.host} unreachable (${method} ${path.split("?")[0]}): ${(error as Error).message}`,
        { cause: error },
      );
    }
    let parsed: unknown = res.text;
    try {
      parsed = res.text ? JSON.parse(res.text) : undefined;
    } catch {
      // Not JSON (a proxy's error page): keep the text.
    }
    return { status: res.status, body: parsed };
  }

  /**
   * Sends one request through the pool's handler interface and collects the answer's body as text:
   * cheaper than `pool.request`, which makes a stream of every body (a release sends thousands).
   */
  private send(options: Dispatcher.DispatchOptions): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let status = 0;
      this.pool.dispatch(options, {
        // Its presence tells undici this handler uses the current interface.
        onRequestStart: () => undefined,
        onResponseStart: (_controller, statusCode) => {
          status = statusCode;
        },
        onResponseData: (_controller, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () => resolve({ status, text: Buffer.concat(chunks).toString("utf8") }),
        onResponseError: (_controller, error) => reject(error),
      });
    });
  }

  /**
   * Watches a collection (`path` with its query, e.g. `…/configmaps?watch=1&resourceVersion=42`):
   * calls `onEvent` with each event the API server streams, and resolves when the server ends the
   * watch (its timeout) or `signal` aborts it; rejects with a KubeApiError when the server refuses it
   * (a 410 Gone: the version is too old to start from), or a transient error when it cannot be reached.
   * Watches run on connections of their own, so they never hold up requests. `onOpen` is told when
   * the server accepted the watch (a 200, before any event).
   */
  watch(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal, onOpen?: () => void): Promise<void> {
    this.watchPool ??= new Pool(this.server.origin, { ...this.connectOptions, bodyTimeout: 0, headersTimeout: 60_000 });
    const pool = this.watchPool;
    return new Promise((resolve, reject) => {
      let status = 0;
      let pending = "";
      const errorBody: Buffer[] = [];
      if (signal.aborted) return resolve();
      pool.dispatch(
        { method: "GET", path, headers: { ...this.headers, accept: "application/json" } },
        {
          onRequestStart: (controller) => {
            const stop = () => controller.abort(new Error("watch stopped"));
            signal.addEventListener("abort", stop, { once: true });
          },
          onResponseStart: (_controller, statusCode) => {
            status = statusCode;
            if (status === 200) onOpen?.();
          },
          onResponseData: (_controller, chunk) => {
            if (status !== 200) {
              errorBody.push(chunk);
              return;
            }
            pending += chunk.toString("utf8");
            let newline = pending.indexOf("\n");
            while (newline >= 0) {
              const line = pending.slice(0, newline).trim();
              pending = pending.slice(newline + 1);
              if (line !== "") onEvent(JSON.parse(line) as WatchEvent);
              newline = pending.indexOf("\n");
            }
          },
          onResponseEnd: () => {
            if (status === 200) return resolve();
            const text = Buffer.concat(errorBody).toString("utf8");
            let body: unknown = text;
            try {
              body = JSON.parse(text);
            } catch {
              // Not JSON: keep the text.
            }
            reject(apiError({ status, body }));
          },
          onResponseError: (_controller, error) => {
            if (signal.aborted) resolve();
            else
              reject(
                transient(
                  `Kubernetes API ${this.server.host} unreachable (watch ${path.split("?")[0]}): ${error.message}`,
                  { cause: error },
                ),
              );
          },
        },
      );
    });
  }

  /** Like `request`, but turns an error answer into a KubeApiError. */
  async call(method: string, path: string, body?: unknown, contentType?: string): Promise<unknown> {
    const res = await this.request(method, path, body, contentType);
    if (res.status >= 200 && res.status < 300) return res.body;
    throw apiError(res);
  }

  /** Resource name and scope of a kind, from the API server's discovery (cached; refreshed once on a miss, e.g. for a CRD just created). */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    const found = (await this.discover(apiVersion, false)).get(kind);
    return found ?? (await this.discover(apiVersion, true)).get(kind);
  }

  /**
   * The group versions (`apps/v1`) in which the server serves `kind` of `apiVersion`'s group, from
   * its discovery: what to write instead of a version it does not serve. Empty when there are none.
   */
  async versionsServing(apiVersion: string, kind: string): Promise<string[]> {
    const group = groupOf(apiVersion);
    const res = await this.request("GET", group === "" ? "/api" : `/apis/${group}`);
    if (res.status !== 200) return [];
    // `/api` lists its versions as strings (`v1`); a group lists objects with their groupVersion.
    const listed = (res.body as { versions?: Array<string | { groupVersion?: string }> }).versions ?? [];
    const versions = listed
      .map((v) => (typeof v === "string" ? v : (v.groupVersion ?? "")))
      .filter((v) => v !== "" && v !== apiVersion);
    const serving = await Promise.all(
      versions.map(async (version) => ((await this.resource(version, kind)) ? version : undefined)),
    );
    return serving.filter((v): v is string => v !== undefined);
  }

  /**
   * Every namespaced kind the server serves, one entry per kind in its group's preferred version,
   * from discovery (`/api/v1`, then `/apis` and each group's preferred version). A group whose
   * discovery fails (an aggregated API that is down) is left out: nothing of it can be listed either.
   */
  async namespacedKinds(): Promise<ServedKind[]> {
    const res = await this.request("GET", "/apis");
    if (res.status !== 200) throw apiError(res);
    const groups = (res.body as { groups?: Array<{ preferredVersion?: { groupVersion?: string } }> }).groups ?? [];
    const versions = [
      "v1",
      ...groups.map((g) => g.preferredVersion?.groupVersion).filter((v): v is string => v !== undefined),
    ];
    const kinds = await Promise.all(
      versions.map(async (apiVersion) => {
        const served = await this.discover(apiVersion, false).catch((error: unknown) => {
          if (apiVersion === "v1") throw error;
          return new Map<string, ResourceInfo>();
        });
        return [...served].filter(([, info]) => info.namespaced).map(([kind, info]) => ({ apiVersion, kind, ...info }));
      }),
    );
    return kinds.flat();
  }

  /** The URL path of a resource collection or object; a kind the server does not serve throws a 404 {@link KubeApiError} saying so. */
  async path(ref: { apiVersion: string; kind: string; namespace?: string; name?: string }): Promise<string> {
    const info = await this.resource(ref.apiVersion, ref.kind);
    if (!info) throw new KubeApiError(404, "NotFound", noMatchesFor(ref.kind, ref.apiVersion));
    const base = groupOf(ref.apiVersion) === "" ? `/api/${ref.apiVersion}` : `/apis/${ref.apiVersion}`;
    const ns = info.namespaced && ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : "";
    return `${base}${ns}/${info.plural}${ref.name ? `/${encodeURIComponent(ref.name)}` : ""}`;
  }

  private discover(apiVersion: string, refresh: boolean): Promise<Map<string, ResourceInfo>> {
    const cached = this.discovery.get(apiVersion);
    if (cached && !refresh) return cached;
    const loading = (async () => {
      const path = groupOf(apiVersion) === "" ? `/api/${apiVersion}` : `/apis/${apiVersion}`;
      const res = await this.request("GET", path);
      const kinds = new Map<string, ResourceInfo>();
      if (res.status === 404) return kinds;
      if (res.status !== 200) throw apiError(res);
      const list = res.body as {
        resources?: Array<{ name: string; kind: string; namespaced: boolean; verbs?: string[] }>;
      };
      for (const r of list.resources ?? []) {
        if (!r.name.includes("/"))
          kinds.set(r.kind, { plural: r.name, namespaced: r.namespaced, verbs: r.verbs ?? [] });
      }
      return kinds;
    })();
    this.discovery.set(apiVersion, loading);
    loading.catch(() => this.discovery.delete(apiVersion));
    return loading;
  }
}

/** What kubectl says of a kind its cluster's discovery does not list in a version: `no matches for kind "X" in version "g/v"`. */
export function noMatchesFor(kind: string, apiVersion: string): string {
  return `no matches for kind "${kind}" in version "${apiVersion}"`;
}

/** Turns an error response into a KubeApiError with the server's message; 5xx, 429 and timeouts count as transient. */
export function apiError(res: KubeResponse): KubeApiError {
  const status = (typeof res.body === "object" && res.body !== null ? res.body : {}) as KubeStatus;
  const message =
    status.message ?? (typeof res.body === "string" && res.body ? res.body.slice(0, 500) : `HTTP ${res.status}`);
  return new KubeApiError(res.status, status.reason ?? String(res.status), message);
}

/** True for answers worth retrying: a write conflict, or the server overloaded, restarting or timed out. */
export function isTransientStatus(status: number): boolean {
  return status === 409 || status === 429 || status >= 500 || status === 0;
}
