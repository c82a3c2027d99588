import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { KubeObject } from "../render/types.js";
import { detectDrift } from "./detect-drift.js";
import type { Drift } from "./types.js";

const TESTDATA = join(import.meta.dirname, "testdata");
const INVENTORY = "shop/ferry-production-0123456789";

/** A fixture from `testdata/`: manifests are `<name>.manifest.json`, live objects captured by `capture.sh`. */
function load(name: string): KubeObject {
  return JSON.parse(readFileSync(join(TESTDATA, `${name}.json`), "utf8")) as KubeObject;
}

const CONTAINER = "spec.template.spec.containers[name=web]";

/** The drift expected of a fixture, each field given the time its manager's managedFields entry records. */
function withTimes(live: KubeObject, drift: Drift | undefined): Drift | undefined {
  if (drift?.kind !== "drifted") return drift;
  const entries = (live.metadata.managedFields ?? []) as Array<{ manager: string; time?: string }>;
  const fields = drift.fields.map((field) => {
    const time = entries.find((e) => e.manager === field.manager)?.time;
    return time === undefined ? field : { ...field, time };
  });
  return { kind: "drifted", fields };
}

/**
 * Each live object captured from a real API server, the manifest Ferry applied to it, and exactly
 * what must be reported (with the time from the reported manager's entry: `kubectl scale` records none).
 */
const CASES: Array<[live: string, manifest: string, expected: Drift | undefined]> = [
  // Benign: defaults, status, normalised values (cpu 0.5 → 500m, 0.5Gi → 512Mi, a port's defaulted protocol).
  ["deployment-in-sync", "deployment", undefined],
  // Another manager's label, a sidecar with an env var in Ferry's container, a restart annotation.
  ["deployment-labelled", "deployment", undefined],
  ["deployment-sidecar", "deployment", undefined],
  ["deployment-restarted", "deployment", undefined],
  // Replicas the manifest leaves to an autoscaler.
  ["deployment-autoscaled", "deployment-worker", undefined],
  // Edited away and back: kubectl-edit owns replicas and cpu now, but they hold Ferry's values.
  ["deployment-edited-back", "deployment", undefined],
  ["configmap-flags-finalizer-added", "configmap-flags", undefined],
  ["secret-in-sync", "secret", undefined],
  ["service-in-sync", "service", undefined],

  [
    "deployment-scaled",
    "deployment",
    {
      kind: "drifted",
      fields: [{ path: "spec.replicas", desired: "3", live: "5", manager: "kubectl", operation: "Update" }],
    },
  ],
  [
    "deployment-set-env",
    "deployment",
    {
      kind: "drifted",
      fields: [
        {
          path: `${CONTAINER}.env[name=LOG_LEVEL].value`,
          desired: '"info"',
          live: '"debug"',
          manager: "kubectl-set",
          operation: "Update",
        },
      ],
    },
  ],
  [
    "deployment-edited",
    "deployment",
    {
      kind: "drifted",
      fields: [
        {
          path: `${CONTAINER}.image`,
          desired: '"registry.example/shop/web:1.4.2"',
          live: '"registry.example/shop/web:1.4.3-hotfix"',
          manager: "kubectl-edit",
          operation: "Update",
        },
        { path: `${CONTAINER}.env[name=REGION]`, desired: '{"name":"REGION","value":"eu-west-1"}' },
        {
          path: `${CONTAINER}.resources.requests.cpu`,
          desired: "0.5",
          live: '"1"',
          manager: "kubectl-edit",
          operation: "Update",
        },
      ],
    },
  ],
  [
    "deployment-client-side-applied",
    "deployment",
    {
      kind: "drifted",
      fields: [
        {
          path: `${CONTAINER}.image`,
          desired: '"registry.example/shop/web:1.4.2"',
          live: '"registry.example/shop/web:1.5.0-rc1"',
          manager: "kubectl-client-side-apply",
          operation: "Update",
        },
      ],
    },
  ],
  // The forcing applier also applied Ferry's own team label: shared, so not drift.
  [
    "deployment-force-applied",
    "deployment",
    {
      kind: "drifted",
      fields: [{ path: "spec.replicas", desired: "3", live: "4", manager: "hotfix", operation: "Apply" }],
    },
  ],
  [
    "deployment-relabelled",
    "deployment",
    {
      kind: "drifted",
      fields: [
        {
          path: "metadata.labels.team",
          desired: '"checkout"',
          live: '"payments"',
          manager: "kubectl-label",
          operation: "Update",
        },
      ],
    },
  ],
  [
    "deployment-unlabelled",
    "deployment",
    { kind: "drifted", fields: [{ path: "metadata.labels.team", desired: '"checkout"' }] },
  ],
  // Without its owner annotation the object is still Ferry's: the annotation is a drifted field.
  [
    "deployment-unannotated",
    "deployment",
    { kind: "drifted", fields: [{ path: 'metadata.annotations["ferry.dev/inventory"]', desired: `"${INVENTORY}"` }] },
  ],
  // managedFields reset: values alone decide, and normalised values still match.
  [
    "deployment-fields-reset",
    "deployment",
    {
      kind: "drifted",
      fields: [
        { path: "spec.replicas", desired: "3", live: "5" },
        {
          path: `${CONTAINER}.image`,
          desired: '"registry.example/shop/web:1.4.2"',
          live: '"registry.example/shop/web:1.4.3-hotfix"',
        },
      ],
    },
  ],
  ["deployment-ignored", "deployment", { kind: "ignored" }],
  ["deployment-taken-over", "deployment", { kind: "taken-over", by: "shop/ferry-staging-9876543210" }],
  [
    "configmap-client-side-applied",
    "configmap",
    {
      kind: "drifted",
      fields: [
        {
          path: "data.FEATURES",
          desired: '"search,checkout"',
          live: '"search"',
          manager: "kubectl-client-side-apply",
          operation: "Update",
        },
      ],
    },
  ],
  ["configmap-key-removed", "configmap", { kind: "drifted", fields: [{ path: "data.LOG_FORMAT", desired: '"json"' }] }],
  [
    "configmap-flags-finalizer-removed",
    "configmap-flags",
    { kind: "drifted", fields: [{ path: "metadata.finalizers", desired: '["example.com/audit"]' }] },
  ],
  // DB_PASSWORD is stringData in the manifest, data on the server.
  [
    "secret-edited",
    "secret",
    {
      kind: "drifted",
      fields: [
        {
          path: "data.API_TOKEN",
          desired: "(hidden)",
          live: "(hidden, changed)",
          manager: "kubectl-edit",
          operation: "Update",
        },
        {
          path: "data.DB_PASSWORD",
          desired: "(hidden)",
          live: "(hidden, changed)",
          manager: "kubectl-edit",
          operation: "Update",
        },
      ],
    },
  ],
  [
    "secret-key-removed",
    "secret",
    { kind: "drifted", fields: [{ path: "data.API_TOKEN", desired: "(hidden, removed)" }] },
  ],
  [
    "service-edited",
    "service",
    {
      kind: "drifted",
      fields: [
        {
          path: "spec.ports[port=80,protocol=TCP].targetPort",
          desired: '"http"',
          live: "8081",
          manager: "kubectl-edit",
          operation: "Update",
        },
      ],
    },
  ],
];

describe("detectDrift on objects from a real API server", () => {
  for (const [live, manifest, expected] of CASES) {
    it(`${live}: ${expected ? expected.kind : "in sync"}`, () => {
      const object = load(live);
      assert.deepEqual(
        detectDrift(load(`${manifest}.manifest`), object, { inventory: INVENTORY }),
        withTimes(object, expected),
      );
    });
  }
});

describe("detectDrift", () => {
  const desired = load("deployment.manifest");

  it("reports an object that is gone", () => {
    assert.deepEqual(detectDrift(desired, undefined, { inventory: INVENTORY }), { kind: "gone" });
  });

  it("reports a taken-over object before an ignored one", () => {
    const live = load("deployment-taken-over");
    live.metadata.annotations = { ...live.metadata.annotations, "ferry.dev/drift": "ignore" };
    assert.deepEqual(detectDrift(desired, live, { inventory: INVENTORY }), {
      kind: "taken-over",
      by: "shop/ferry-staging-9876543210",
    });
  });

  it("never counts a field Ferry still owns, whatever the server made of it (an admission webhook pinning the image)", () => {
    const live = load("deployment-in-sync");
    const spec = live.spec as { template: { spec: { containers: Array<{ image: string }> } } };
    const container = spec.template.spec.containers[0];
    assert.ok(container);
    container.image = `${container.image}@sha256:${"a".repeat(64)}`;
    assert.equal(detectDrift(desired, live, { inventory: INVENTORY }), undefined);
  });

  it("names fields by the field manager it is told is Ferry's", () => {
    const drift = detectDrift(desired, load("deployment-in-sync"), {
      inventory: INVENTORY,
      fieldManager: "someone-else",
    });
    // With nobody's set counted as Ferry's, values alone decide, and they match.
    assert.equal(drift, undefined);
    const scaled = detectDrift(desired, load("deployment-scaled"), { inventory: INVENTORY, fieldManager: "kubectl" });
    assert.equal(scaled?.kind, "drifted");
  });

  it("never shows a Secret's values, in any form", () => {
    const drift = detectDrift(load("secret.manifest"), load("secret-edited"), { inventory: INVENTORY });
    const text = JSON.stringify(drift);
    for (const value of [
      "tok-1111-alpha",
      "hunter2-correct-horse",
      "tok-2222-bravo",
      "hunter3-wrong-horse",
      "added-by-hand",
    ]) {
      assert.ok(!text.includes(value), `${value} leaked`);
      assert.ok(!text.includes(Buffer.from(value).toString("base64")), `${value} leaked as base64`);
    }
  });

  it("clips long values to short JSON", () => {
    const live = load("deployment-client-side-applied");
    const manifest = load("deployment.manifest");
    const containers = (manifest.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec
      .containers;
    if (containers[0]) containers[0].image = `registry.example/${"very-long-path/".repeat(10)}web:1.4.2`;
    const drift = detectDrift(manifest, live, { inventory: INVENTORY });
    const field = drift?.kind === "drifted" ? drift.fields[0] : undefined;
    assert.equal(field?.desired.length, 60);
    assert.ok(field?.desired.endsWith("…"));
  });

  it("leaves its inputs alone", () => {
    const live = load("secret-edited");
    const manifest = load("secret.manifest");
    const copies = structuredClone([manifest, live]);
    detectDrift(manifest, live, { inventory: INVENTORY });
    assert.deepEqual([manifest, live], copies);
  });
});

describe("detectDrift with SOPS-decrypted values", () => {
  it("hides a decrypted value Git holds, and whatever stands live where it belongs", () => {
    const manifest = load("deployment.manifest");
    const live = load("deployment-scaled");
    const plain = detectDrift(manifest, live, { inventory: INVENTORY });
    const field = plain?.kind === "drifted" ? plain.fields[0] : undefined;
    assert.ok(field?.live !== undefined, "the case drifts");
    // Pretend the drifted field's value in Git came out of a SOPS file.
    const secret = field.desired.replace(/^"|"$/g, "");
    const drift = detectDrift(manifest, live, { inventory: INVENTORY, secrets: [secret] });
    const hidden = drift?.kind === "drifted" ? drift.fields[0] : undefined;
    assert.equal(hidden?.path, field.path);
    assert.equal(hidden?.desired, field.desired.replace(secret, "(hidden)"));
    assert.equal(hidden?.live, "(hidden)");
  });
});
