import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { asStored, projectLive } from "./project-live.js";

describe("projectLive", () => {
  const live = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop", uid: "u", labels: { app: "web", "pod-template-hash": "x" } },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 10,
      template: {
        spec: {
          containers: [
            { name: "sidecar", image: "envoy:1", terminationMessagePath: "/dev/termination-log" },
            {
              name: "web",
              image: "web:1",
              args: ["--a", "--b"],
              ports: [{ containerPort: 80, protocol: "TCP" }],
              terminationMessagePath: "/dev/termination-log",
            },
          ],
        },
      },
    },
    status: { replicas: 2 },
  };

  it("keeps only the fields a manifest sets, with their live values, lists of named items matched by name", () => {
    const desired = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "shop", labels: { app: "web" } },
      spec: {
        replicas: 3,
        template: {
          spec: {
            containers: [
              { name: "web", image: "web:2", args: ["--a"], ports: [{ containerPort: 80 }] },
              { name: "new", image: "n:1" },
            ],
          },
        },
      },
    };
    assert.deepEqual(projectLive(live, desired), {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "shop", labels: { app: "web" } },
      spec: {
        replicas: 2,
        template: {
          spec: { containers: [{ name: "web", image: "web:1", args: ["--a", "--b"], ports: [{ containerPort: 80 }] }] },
        },
      },
    });
  });

  it("gives the manifest itself back when the live object matches it", () => {
    const desired = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "shop" },
      spec: { replicas: 2, template: { spec: { containers: [{ name: "web", image: "web:1" }] } } },
    };
    assert.deepEqual(projectLive(live, desired), desired);
  });
});

describe("asStored", () => {
  it("folds a Secret's stringData into data, base64-encoded, as the server stores it", () => {
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      data: { A: "YQ==" },
      stringData: { B: "b" },
    };
    assert.deepEqual(asStored(secret), {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      data: { A: "YQ==", B: "Yg==" },
    });
    const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, stringData: { B: "b" } };
    assert.equal(asStored(configMap), configMap);
  });
});
