import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { AdmissionregistrationV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { testKubeConfigPath, uniqueName } from "./kube.js";
import { waitUntil } from "./wait-until.js";

/** One admission request the webhook was sent. */
export interface AdmissionCall {
  operation: string;
  namespace: string;
  name: string;
  dryRun: boolean;
}

/** A validating admission webhook served over HTTPS on loopback, allowing everything and recording each call. */
export interface TestAdmissionWebhook {
  /** Where the API server calls it. */
  url: string;
  /** The PEM CA that signed its serving certificate, for `caBundle`. */
  caPem: string;
  /** Every admission request received, in order. */
  calls: AdmissionCall[];
  close(): Promise<void>;
}

/** The label a test puts on the objects its webhook judges (the webhook's objectSelector). */
export const AUDITED_LABEL = "ferry-test/audited";

/**
 * Starts an HTTPS admission webhook on 127.0.0.1 with a certificate from a CA of its own (made with
 * openssl, IP SAN 127.0.0.1, as the API server checks): it allows every request and records it.
 */
export async function startAdmissionWebhook(): Promise<TestAdmissionWebhook> {
  const dir = await mkdtemp(join(tmpdir(), "ferry-webhook-"));
  try {
    const openssl = (...args: string[]) => promisify(execFile)("openssl", args, { cwd: dir });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await openssl(
      "req",
      "-x509",
      ...ec,
      "-days",
      "2",
      "-subj",
      "/CN=ferry-test-webhook-ca",
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
    );
    await openssl("req", ...ec, "-subj", "/CN=127.0.0.1", "-keyout", "tls.key", "-out", "tls.csr");
    await writeFile(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
    await openssl(
      "x509",
      "-req",
      "-in",
      "tls.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      "san.ext",
      "-out",
      "tls.crt",
    );
    const [caPem, key, cert] = await Promise.all(
      ["ca.crt", "tls.key", "tls.crt"].map((f) => readFile(join(dir, f), "utf8")),
    );
    const calls: AdmissionCall[] = [];
    const server: Server = createServer({ key, cert }, (req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (body += chunk));
      req.on("end", () => {
        const review = JSON.parse(body) as {
          request: { uid: string; operation: string; namespace?: string; name?: string; dryRun?: boolean };
        };
        const { uid, operation, namespace = "", name = "", dryRun = false } = review.request;
        calls.push({ operation, namespace, name, dryRun });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            apiVersion: "admission.k8s.io/v1",
            kind: "AdmissionReview",
            response: { uid, allowed: true },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `https://127.0.0.1:${port}/validate`,
      caPem: caPem ?? "",
      calls,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Registers `webhook` with the run's API server as a ValidatingWebhookConfiguration with
 * `sideEffects: Some`, for CREATE and UPDATE of ConfigMaps labelled {@link AUDITED_LABEL} in
 * `namespace` only (other tests share the API server). admissionregistration.k8s.io/v1 refuses
 * `Some` and `Unknown` on create, yet clusters still hold such configurations from v1beta1 days and
 * the API server enforces them; so it is written to etcd as the API server stores it (JSON, which its
 * storage decodes as well as protobuf). Resolves once the API server refuses a dry-run for it; the
 * returned function deletes it through the API.
 */
export async function registerSideEffectsWebhook(
  kc: KubeConfig,
  webhook: TestAdmissionWebhook,
  namespace: string,
): Promise<{ name: string; remove(): Promise<void> }> {
  const name = `${uniqueName("audit")}.ferry.test`;
  const configuration = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: {
      name,
      uid: randomUUID(),
      generation: 1,
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    },
    webhooks: [
      {
        name,
        clientConfig: { url: webhook.url, caBundle: Buffer.from(webhook.caPem).toString("base64") },
        rules: [
          {
            operations: ["CREATE", "UPDATE"],
            apiGroups: [""],
            apiVersions: ["v1"],
            resources: ["configmaps"],
            scope: "Namespaced",
          },
        ],
        failurePolicy: "Fail",
        matchPolicy: "Equivalent",
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
        objectSelector: { matchLabels: { [AUDITED_LABEL]: "true" } },
        sideEffects: "Some",
        timeoutSeconds: 10,
        admissionReviewVersions: ["v1"],
      },
    ],
  };
  const etcd = (await readFile(join(dirname(testKubeConfigPath()), "etcd.url"), "utf8")).trim();
  const b64 = (text: string) => Buffer.from(text).toString("base64");
  const put = await fetch(`${etcd}/v3/kv/put`, {
    method: "POST",
    body: JSON.stringify({
      key: b64(`/registry/validatingwebhookconfigurations/${name}`),
      value: b64(JSON.stringify(configuration)),
    }),
  });
  if (!put.ok) throw new Error(`etcd put: ${put.status} ${await put.text()}`);
  const remove = async () => {
    await kc.makeApiClient(AdmissionregistrationV1Api).deleteValidatingWebhookConfiguration({ name });
  };
  try {
    const core = kc.makeApiClient(CoreV1Api);
    const probe = { metadata: { name: "probe", labels: { [AUDITED_LABEL]: "true" } } };
    let seen = "";
    await waitUntil(
      () => `the API server to refuse dry-runs for webhook ${name} (last answer: ${seen})`,
      async () => {
        try {
          await core.createNamespacedConfigMap({ namespace, body: probe, dryRun: "All" });
          seen = "allowed";
          return false;
        } catch (error) {
          seen = String((error as { body?: unknown }).body ?? error);
          return (
            seen.includes(`admission webhook \\"${name}\\" does not support dry run`) ||
            seen.includes(`admission webhook "${name}" does not support dry run`)
          );
        }
      },
      30_000,
      200,
    );
  } catch (error) {
    await remove().catch(() => undefined);
    throw error;
  }
  return { name, remove };
}
