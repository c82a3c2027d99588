import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FerryError } from "../errors.js";
import { applyHookPolicy } from "./helm-hooks.js";
import { parseHelmOutput } from "./helm-renderer.js";

/** `helm template` output as helm 3 prints it: manifests first, then hooks, each headed by its template. */
const OUTPUT = `---
# Source: shop/templates/web.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: web
---
# Source: shop/charts/redis/templates/redis.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: redis
---
# Source: shop/templates/migrate.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    "helm.sh/hook": pre-install, pre-upgrade
    "helm.sh/hook-weight": "-5"
---
# Source: shop/templates/migrate.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cleanup
  annotations:
    "helm.sh/hook": post-delete
---
# Source: shop/templates/tests/ping.yaml
apiVersion: v1
kind: Pod
metadata:
  name: ping
  annotations:
    "helm.sh/hook": test
---
# Source: shop/templates/tests/old.yaml
apiVersion: v1
kind: Pod
metadata:
  name: old-style-test
  annotations:
    "helm.sh/hook": test-success
`;

describe("Helm output and hooks", () => {
  it("names each object by its template's path in the repository, numbering documents of one template", () => {
    const objects = parseHelmOutput(OUTPUT, "charts/shop");
    assert.deepEqual(
      objects.map((o) => [o.source, o.object.metadata.name]),
      [
        ["charts/shop/templates/web.yaml", "web"],
        ["charts/shop/charts/redis/templates/redis.yaml", "redis"],
        ["charts/shop/templates/migrate.yaml#1", "migrate"],
        ["charts/shop/templates/migrate.yaml#2", "cleanup"],
        ["charts/shop/templates/tests/ping.yaml", "ping"],
        ["charts/shop/templates/tests/old.yaml", "old-style-test"],
      ],
    );
  });

  it("refuses install, upgrade and delete hooks by default, naming each with its events", () => {
    assert.throws(
      () => applyHookPolicy(parseHelmOutput(OUTPUT, "charts/shop"), "refuse", "charts/shop"),
      (error: unknown) => {
        assert.ok(error instanceof FerryError && error.kind === "permanent");
        assert.equal(
          error.message,
          "chart charts/shop has Helm hooks, which Ferry does not run: Job migrate (pre-install,pre-upgrade), ConfigMap cleanup (post-delete); " +
            "disable them through the chart's values, or set helm.hooks: skip in .ferry.yml to leave them out",
        );
        return true;
      },
    );
  });

  it("always leaves test hooks out, and every hook with hooks: skip", () => {
    const objects = parseHelmOutput(OUTPUT, "charts/shop");
    const withoutHooks = objects.filter((o) => !["migrate", "cleanup"].includes(o.object.metadata.name));
    assert.deepEqual(
      applyHookPolicy(withoutHooks, "refuse", "charts/shop").map((o) => o.object.metadata.name),
      ["web", "redis"],
    );
    assert.deepEqual(
      applyHookPolicy(objects, "skip", "charts/shop").map((o) => o.object.metadata.name),
      ["web", "redis"],
    );
  });

  it("reports what is wrong in the output, and objects rendered twice", () => {
    const output = `---\n# Source: shop/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# Source: shop/templates/b.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# Source: shop/templates/c.yaml\nkind: ConfigMap\nmetadata:\n  name: c\n`;
    assert.throws(() => parseHelmOutput(output, "chart"), {
      message:
        "chart/templates/c.yaml: not a Kubernetes object: missing apiVersion\nchart/templates/b.yaml: duplicate ConfigMap a, also in chart/templates/a.yaml",
    });
  });
});
