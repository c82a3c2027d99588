import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { healthCheckFor, healthOf, isStatusless, type HealthStatus, type LiveResource } from "./index.js";

const TESTDATA = join(import.meta.dirname, "testdata");

/** The time of every poll in these tests: the fixtures' timestamps are a few seconds or minutes before it. */
const NOW = Date.parse("2026-01-01T00:10:00Z");

/** Each fixture in `testdata/`, the verdict it must get, and what its message must say. */
const CASES: Array<[file: string, status: HealthStatus, message: RegExp, reason?: string]> = [
  ["deployment-available", "current", /^3\/3 replicas available$/],
  ["deployment-new", "in-progress", /observe generation 1/],
  ["deployment-rolling-out", "in-progress", /^1\/3 replicas updated$/],
  ["deployment-old-replicas", "in-progress", /^1 old replicas pending termination$/],
  ["deployment-unavailable", "in-progress", /^1\/2 replicas available$/],
  ["deployment-observed-generation-stale", "in-progress", /observe generation 4/],
  [
    "deployment-progress-deadline-exceeded",
    "failed",
    /^ReplicaSet "web-74fcd96dff" has timed out progressing\.$/,
    "ProgressDeadlineExceeded",
  ],
  ["deployment-progress-deadline-exceeded-before-change", "in-progress", /^1 old replicas pending termination$/],
  ["deployment-paused", "suspended", /^paused: not rolled out until resumed$/],
  ["stateful-set-ready", "current", /^3\/3 replicas ready$/],
  ["stateful-set-updating", "in-progress", /^1\/3 replicas updated$/],
  ["stateful-set-scaling", "in-progress", /^1\/3 replicas ready$/],
  ["stateful-set-partitioned", "current", /partitioned roll out done/],
  ["daemon-set-available", "current", /^2\/2 pods available$/],
  ["daemon-set-updating", "in-progress", /^1\/2 pods updated$/],
  ["daemon-set-no-nodes", "current", /^0\/0 pods available$/],
  ["replica-set-available", "current", /^2\/2 replicas available$/],
  ["replica-set-scaling", "in-progress", /^2\/4 replicas available$/],
  ["replica-set-replica-failure", "failed", /^FailedCreate: .*exceeded quota/, "FailedCreate"],
  ["pod-ready", "current", /^ready$/],
  ["pod-unschedulable", "in-progress", /^not scheduled: Unschedulable: 0\/2 nodes are available/, "Unschedulable"],
  [
    "pod-crash-loop",
    "failed",
    /^container debug: back-off 1m20s restarting failed container=debug .*; it last exited with code 1 \(Error\)$/,
    "CrashLoopBackOff",
  ],
  [
    "pod-crash-loop-on-failure",
    "failed",
    /^container seed: back-off .*; it last exited with code 2 \(Error\): cannot reach postgres:5432$/,
    "CrashLoopBackOff",
  ],
  ["pod-container-error", "failed", /^container debug exited with code 1$/, "Error"],
  ["pod-oom-killed", "failed", /^container cache exited with code 137$/, "OOMKilled"],
  [
    "pod-image-pull-back-off",
    "failed",
    /^container web: Back-off pulling image "registry\.example\.com\/shop\/web:1\.9\.0" \(failing for 180s\)$/,
    "ImagePullBackOff",
  ],
  ["pod-image-pull-retrying", "in-progress", /^container web waiting: ErrImagePull: failed to pull/, "ErrImagePull"],
  [
    "pod-invalid-image-name",
    "failed",
    /^container web: Failed to apply default image tag "shop\/Web:1\.9\.0"/,
    "InvalidImageName",
  ],
  [
    "pod-create-container-config-error",
    "in-progress",
    /^container web waiting: CreateContainerConfigError: secret "web-db" not found$/,
    "CreateContainerConfigError",
  ],
  ["pod-terminating", "in-progress", /^being deleted$/],
  ["pod-running-restart-never", "in-progress", /^running; restartPolicy Never: current once it succeeds$/],
  ["pod-running-restart-on-failure", "in-progress", /^running; restartPolicy OnFailure: current once it succeeds$/],
  ["pod-succeeded", "current", /^completed$/],
  ["pod-failed", "failed", /^The node was low on resource: memory\.$/, "Evicted"],
  [
    "pod-failed-container-error",
    "failed",
    /^container migrate exited with code 1: relation "orders" already exists$/,
    "Error",
  ],
  ["job-complete", "current", /^completed$/],
  ["job-running", "in-progress", /^1\/3 pods succeeded, 1 running$/],
  ["job-failed", "failed", /^Job has reached the specified backoff limit$/, "BackoffLimitExceeded"],
  ["job-suspended", "suspended", /^suspended: runs no pods until resumed$/],
  ["persistent-volume-claim-bound", "current", /^bound$/],
  ["persistent-volume-claim-pending", "in-progress", /^phase Pending, not bound$/],
  ["persistent-volume-claim-lost", "failed", /lost its volume/, "ClaimLost"],
  ["service-cluster-ip", "current", /^applied$/],
  ["service-load-balancer-pending", "in-progress", /load balancer address/],
  ["service-load-balancer-assigned", "current", /203\.0\.113\.7/],
  ["horizontal-pod-autoscaler-active", "current", /^scaling active: 1 replica \(1–2\)$/],
  ["horizontal-pod-autoscaler-v1-active", "current", /^scaling active: 2 replicas \(1–2\)$/],
  ["horizontal-pod-autoscaler-scaling-disabled", "current", /^scaling disabled: the target has 0 replicas$/],
  ["horizontal-pod-autoscaler-waiting", "in-progress", /^waiting for the autoscaler's first reading$/],
  ["horizontal-pod-autoscaler-observed-generation-stale", "in-progress", /observe generation 2/],
  [
    "horizontal-pod-autoscaler-no-metrics",
    "in-progress",
    /^ScalingActive is False: FailedGetResourceMetric: .*no metrics returned/,
    "FailedGetResourceMetric",
  ],
  [
    "horizontal-pod-autoscaler-failed-get-scale",
    "failed",
    /^the HPA controller was unable to get the target's current scale: deployments\/scale\.apps "wbe" not found$/,
    "FailedGetScale",
  ],
  [
    "horizontal-pod-autoscaler-v1-failed-get-scale",
    "failed",
    /deployments\/scale\.apps "wbe" not found$/,
    "FailedGetScale",
  ],
  [
    "horizontal-pod-autoscaler-invalid-selector",
    "failed",
    /^the HPA target's scale is missing a selector$/,
    "InvalidSelector",
  ],
  ["ingress-address-assigned", "current", /^load balancer at 203\.0\.113\.9$/],
  [
    "ingress-hostname-assigned",
    "current",
    /^load balancer at k8s-shop-web-0123456789\.eu-west-1\.elb\.amazonaws\.com$/,
  ],
  ["ingress-empty-entry", "current", /^load balancer at an address$/],
  ["ingress-pending", "in-progress", /^waiting for a load balancer address$/],
  ["custom-resource-definition-established", "current", /^established$/],
  ["custom-resource-definition-pending", "in-progress", /^not established: Installing/],
  ["custom-resource-definition-names-not-accepted", "failed", /"Widget" is already in use/, "KindConflict"],
  ["generic-ready", "current", /^ready$/],
  ["generic-available", "current", /^available$/],
  ["generic-not-ready", "in-progress", /^Ready is False: DoesNotExist: Issuer letsencrypt not found$/, "DoesNotExist"],
  ["generic-condition-stale", "in-progress", /older generation/],
  ["generic-stalled", "failed", /kustomize build failed/, "BuildFailed"],
  ["generic-reconciling", "in-progress", /^reconciling: Progressing: Reconciliation in progress$/, "Progressing"],
  ["generic-observed-generation-stale", "in-progress", /observe generation 3/],
  ["generic-no-status", "current", /^applied$/],
];

function fixture(name: string): LiveResource & { apiVersion: string; kind: string } {
  return parse(readFileSync(join(TESTDATA, `${name}.yaml`), "utf8")) as LiveResource & {
    apiVersion: string;
    kind: string;
  };
}

describe("health checks", () => {
  for (const [file, status, message, reason] of CASES) {
    it(`${file}: ${status}`, () => {
      const object = fixture(file);
      const health = healthOf(object, object, NOW);
      assert.equal(health.status, status, health.message);
      assert.match(health.message, message);
      assert.equal(health.reason, reason);
    });
  }

  it("has a case for every fixture, and a fixture for every case", () => {
    const files = readdirSync(TESTDATA)
      .map((f) => f.replace(/\.yaml$/, ""))
      .sort();
    assert.deepEqual([...CASES.map(([file]) => file)].sort(), files);
  });

  it("names every fixture after the kind that judges it", () => {
    for (const [file] of CASES) {
      const object = fixture(file);
      const check = healthCheckFor(object);
      const expected =
        check.kind === "*"
          ? "generic"
          : check.kind
              .split("/")[1]
              ?.replace(/([a-z])([A-Z])/g, "$1-$2")
              .toLowerCase();
      assert.ok(file.startsWith(`${expected}-`), `${file} is judged by ${check.kind}`);
    }
  });

  it("chooses the check by API group and kind", () => {
    assert.equal(healthCheckFor({ apiVersion: "apps/v1", kind: "Deployment" }).kind, "apps/Deployment");
    assert.equal(
      healthCheckFor({ apiVersion: "example.com/v1", kind: "Deployment" }).kind,
      "*",
      "a Deployment of another group is not apps'",
    );
    assert.equal(healthCheckFor({ apiVersion: "batch/v1", kind: "Job" }).kind, "batch/Job");
    assert.equal(healthCheckFor({ apiVersion: "v1", kind: "Pod" }).kind, "/Pod");
    assert.equal(
      healthCheckFor({ apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler" }).kind,
      "autoscaling/HorizontalPodAutoscaler",
    );
    assert.equal(
      healthCheckFor({ apiVersion: "networking.k8s.io/v1", kind: "Ingress" }).kind,
      "networking.k8s.io/Ingress",
    );
  });

  it("needs no read for kinds without a status, and calls a missing object in progress", () => {
    assert.equal(isStatusless({ apiVersion: "v1", kind: "ConfigMap" }), true);
    assert.equal(isStatusless({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role" }), true);
    assert.equal(isStatusless({ apiVersion: "apps/v1", kind: "Deployment" }), false);
    assert.deepEqual(healthOf({ apiVersion: "apps/v1", kind: "Deployment" }, undefined), {
      status: "in-progress",
      message: "not found",
    });
  });
});
