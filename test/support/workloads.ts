import { stringify } from "yaml";
import { FAKE_NODE_LABEL, FAKE_NODE_VALUE } from "./kwok.js";

/** Options for {@link deploymentYaml}. */
export interface DeploymentOptions {
  replicas?: number;
  image?: string;
  /** Schedule on the fake nodes (default), or on none at all: the pods then stay Pending. */
  nodes?: "fake" | "none";
  progressDeadlineSeconds?: number;
}

/** A Deployment manifest as YAML whose pods run on the fake nodes kwok plays, or on no node at all. */
export function deploymentYaml(name: string, options: DeploymentOptions = {}): string {
  return stringify(deployment(name, options));
}

/** A Deployment manifest whose pods run on the fake nodes kwok plays, or on no node at all. */
export function deployment(
  name: string,
  options: DeploymentOptions = {},
): Record<string, unknown> & { metadata: { name: string } } {
  const spec: Record<string, unknown> = {
    replicas: options.replicas ?? 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        nodeSelector: { [FAKE_NODE_LABEL]: options.nodes === "none" ? "nowhere" : FAKE_NODE_VALUE },
        containers: [{ name, image: options.image ?? `shop/${name}:1` }],
      },
    },
  };
  if (options.progressDeadlineSeconds !== undefined) spec.progressDeadlineSeconds = options.progressDeadlineSeconds;
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name }, spec };
}

/** A Job manifest whose pod runs on the fake nodes (kwok completes it), or on no node, failing at its deadline. */
export function job(
  name: string,
  options: { nodes?: "fake" | "none"; activeDeadlineSeconds?: number } = {},
): Record<string, unknown> & { metadata: { name: string } } {
  const spec: Record<string, unknown> = {
    backoffLimit: 0,
    template: {
      spec: {
        restartPolicy: "Never",
        nodeSelector: { [FAKE_NODE_LABEL]: options.nodes === "none" ? "nowhere" : FAKE_NODE_VALUE },
        containers: [{ name, image: `shop/${name}:1` }],
      },
    },
  };
  if (options.activeDeadlineSeconds !== undefined) spec.activeDeadlineSeconds = options.activeDeadlineSeconds;
  return { apiVersion: "batch/v1", kind: "Job", metadata: { name }, spec };
}
