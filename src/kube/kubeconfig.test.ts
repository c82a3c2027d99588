import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { stringify } from "yaml";
import { writeTree } from "../../test/support/file-tree.js";
import { ferryError } from "../../test/support/ferry-error.js";
import { inClusterConnection, readKubeconfigContext } from "./kubeconfig.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("readKubeconfigContext", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "ferry-kubeconfig-"));
    await writeTree(dir, {
      "a/config": stringify({
        clusters: [
          { name: "files", cluster: { server: "https://files.example:6443", "certificate-authority": "pki/ca.crt" } },
          {
            name: "inline",
            cluster: {
              server: "https://inline.example",
              "certificate-authority-data": b64("CA-INLINE"),
              "insecure-skip-tls-verify": true,
            },
          },
        ],
        users: [
          { name: "cert", user: { "client-certificate": "pki/admin.crt", "client-key": "pki/admin.key" } },
          { name: "token", user: { token: "t0ken" } },
          { name: "token-file", user: { tokenFile: "pki/token" } },
          { name: "basic", user: { username: "ann", password: "pw" } },
          { name: "exec", user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "aws" } } },
        ],
        contexts: [
          { name: "files-cert", context: { cluster: "files", user: "cert" } },
          { name: "inline-token", context: { cluster: "inline", user: "token" } },
          { name: "files-token-file", context: { cluster: "files", user: "token-file" } },
          { name: "basic", context: { cluster: "inline", user: "basic" } },
          { name: "plugin", context: { cluster: "files", user: "exec" } },
          { name: "ghost-cluster", context: { cluster: "nowhere", user: "token" } },
        ],
      }),
      "a/pki/ca.crt": "CA-FILE",
      "a/pki/admin.crt": "CERT",
      "a/pki/admin.key": "KEY",
      "a/pki/token": "file-token\n",
      "b/config": stringify({
        clusters: [{ name: "files", cluster: { server: "https://shadowed.example" } }],
        users: [{ name: "b-user", user: { token: "from-b" } }],
        contexts: [{ name: "from-b", context: { cluster: "files", user: "b-user" } }],
      }),
      "sa/token": "sa-token\n",
      "sa/ca.crt": "SA-CA",
    });
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const read = (context: string, file = path.join(dir, "a/config")) =>
    readKubeconfigContext({ file, context, what: 'cluster "x"' });

  it("reads client certificates and the CA from files relative to the kubeconfig", async () => {
    assert.deepEqual(await read("files-cert"), {
      kind: "static",
      connection: {
        server: "https://files.example:6443",
        rejectUnauthorized: true,
        headers: {},
        ca: Buffer.from("CA-FILE"),
        cert: Buffer.from("CERT"),
        key: Buffer.from("KEY"),
      },
    });
  });

  it("reads inline data, bearer tokens, token files and basic auth, and honours insecure-skip-tls-verify", async () => {
    assert.deepEqual(await read("inline-token"), {
      kind: "static",
      connection: {
        server: "https://inline.example",
        rejectUnauthorized: false,
        headers: { authorization: "Bearer t0ken" },
        ca: Buffer.from("CA-INLINE"),
      },
    });
    const fromFile = await read("files-token-file");
    assert.equal(fromFile.kind === "static" && fromFile.connection.headers.authorization, "Bearer file-token");
    const basic = await read("basic");
    assert.equal(basic.kind === "static" && basic.connection.headers.authorization, `Basic ${b64("ann:pw")}`);
  });

  it("says when a user needs an auth plugin, which @kubernetes/client-node runs", async () => {
    assert.deepEqual(await read("plugin"), { kind: "plugin" });
  });

  it("merges the files $KUBECONFIG lists, the first naming an entry winning", async () => {
    const env = { KUBECONFIG: [path.join(dir, "a/config"), path.join(dir, "b/config")].join(path.delimiter) };
    const found = await readKubeconfigContext({ context: "from-b", what: 'cluster "x"', env });
    assert.equal(found.kind === "static" && found.connection.server, "https://files.example:6443");
    assert.equal(found.kind === "static" && found.connection.headers.authorization, "Bearer from-b");
  });

  it("fails permanently, naming the cluster, on a missing context, cluster or file", async () => {
    const missing = await ferryError(read("nope"));
    assert.deepEqual(
      [missing.kind, missing.message],
      ["permanent", 'cluster "x": no context "nope" in the kubeconfig'],
    );
    assert.equal(
      (await ferryError(read("ghost-cluster"))).message,
      'cluster "x": context "ghost-cluster" names no cluster the kubeconfig has',
    );
    assert.match(
      (await ferryError(read("any", path.join(dir, "absent")))).message,
      /^cluster "x": cannot read kubeconfig .*absent: ENOENT$/,
    );
  });

  it("reads a pod's service account for inCluster", async () => {
    const connection = await inClusterConnection(
      { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" },
      path.join(dir, "sa"),
    );
    assert.deepEqual(connection, {
      server: "https://[fd00::1]:443",
      ca: Buffer.from("SA-CA"),
      rejectUnauthorized: true,
      headers: { authorization: "Bearer sa-token" },
    });
    assert.equal((await ferryError(inClusterConnection({}, path.join(dir, "sa")))).kind, "permanent");
  });
});
