import { Agent, request as httpsRequest, type RequestOptions } from "node:https";
import { request as httpRequest, Agent as HttpAgent } from "node:http";
import { KubeConfig } from "@kubernetes/client-node";
import { permanent, transient } from "../errors.js";
import { groupOf } from "./object-ref.js";

/** What the API server says about a kind: its resource path segment and whether it is namespaced. */
export interface ResourceInfo {
  /** Plural resource name, e.g. `deployments`. */
  plural: string;
  namespaced: boolean;
}

/** An API server response. */
export interface KubeResponse {
  status: number;
  /** Parsed JSON body (a Kubernetes object, list or Status). */
  body: unknown;
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

/** How many requests one client keeps in flight to one API server. */
const MAX_SOCKETS = 32;

/**
 * A small HTTP client for one API server: auth and TLS come from @kubernetes/client-node's
 * KubeConfig (certificates, tokens, exec plugins); requests go over a keep-alive agent so a release
 * of a thousand objects reuses a few connections rather than making a TLS handshake per object.
 */
export class KubeClient {
  private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();

  private constructor(
    private readonly server: URL,
    private readonly options: RequestOptions,
    private readonly agent: Agent | HttpAgent,
  ) {}

  /** Connects to the current context of `kc`. */
  static async fromKubeConfig(kc: KubeConfig): Promise<KubeClient> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw permanent("kubeconfig has no current cluster");
    const server = new URL(cluster.server);
    const options: RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, ca: options.ca, cert: options.cert, key: options.key, rejectUnauthorized: options.rejectUnauthorized };
    const agent = server.protocol === "https:" ? new Agent(agentOptions) : new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS });
    return new KubeClient(server, { headers: options.headers ?? {} }, agent);
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  /** Sends one request; resolves with any HTTP answer, rejects with a transient error when the server cannot be reached. */
  request(method: string, path: string, body?: unknown, contentType = "application/json", accept = "application/json"): Promise<KubeResponse> {
    const url = new URL(path, this.server);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            ...(this.options.headers as Record<string, string>),
            accept,
            ...(payload ? { "content-type": contentType, "content-length": payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (error) => reject(transient(`Kubernetes API ${method} ${url.pathname}: ${error.message}`, { cause: error })));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // Not JSON (a proxy's error page): keep the text.
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.setTimeout(60_000, () => req.destroy(new Error("timed out after 60s")));
      req.on("error", (error) => reject(transient(`Kubernetes API ${this.server.host} unreachable: ${error.message}`, { cause: error })));
      req.end(payload);
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

  /** The URL path of a resource collection or object. */
  async path(ref: { apiVersion: string; kind: string; namespace?: string; name?: string }): Promise<string> {
    const info = await this.resource(ref.apiVersion, ref.kind);
    if (!info) throw new KubeApiError(404, "NotFound", `the server has no kind ${ref.kind} in ${ref.apiVersion}`);
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
      const list = res.body as { resources?: Array<{ name: string; kind: string; namespaced: boolean }> };
      for (const r of list.resources ?? []) {
        if (!r.name.includes("/")) kinds.set(r.kind, { plural: r.name, namespaced: r.namespaced });
      }
      return kinds;
    })();
    this.discovery.set(apiVersion, loading);
    loading.catch(() => this.discovery.delete(apiVersion));
    return loading;
  }
}

/** Turns an error response into a KubeApiError with the server's message; 5xx, 429 and timeouts count as transient. */
export function apiError(res: KubeResponse): KubeApiError {
  const status = (typeof res.body === "object" && res.body !== null ? res.body : {}) as KubeStatus;
  const message = status.message ?? (typeof res.body === "string" && res.body ? res.body.slice(0, 500) : `HTTP ${res.status}`);
  return new KubeApiError(res.status, status.reason ?? String(res.status), message);
}

/** True for answers worth retrying: a write conflict, or the server overloaded, restarting or timed out. */
export function isTransientStatus(status: number): boolean {
  return status === 409 || status === 429 || status >= 500 || status === 0;
}
