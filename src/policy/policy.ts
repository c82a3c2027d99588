import type { Environment } from "../config/ferry-config.js";
import type { ClusterConfig, PolicyRule, ServerConfig } from "../config/server-config.js";
import { permanent } from "../errors.js";
import { clusterMatcher } from "../fleet/cluster-matcher.js";
import type { ObjectRef } from "../kube/object-ref.js";
import { describeRef } from "../kube/object-ref.js";

/** What one repository may do on one cluster, gathered from every rule that names both. */
export interface Grant {
  cluster: string;
  namespaces: string[];
  clusterScopedKinds: string[];
}

/** Matches `text` against a pattern where `*` stands for any run of characters. */
export function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(text);
}

/** True when `rule` covers `cluster`: its `clusters` name it (or `*`), or its `clusterSelector` selects it. */
function ruleCovers(rule: PolicyRule, cluster: ClusterConfig): boolean {
  if (rule.clusters?.some((c) => c === "*" || c === cluster.name)) return true;
  return rule.clusterSelector !== undefined && clusterMatcher(rule.clusterSelector)(cluster);
}

/**
 * The grant a repository has on an environment's cluster, from every rule that names the repository
 * and covers the cluster (by name or by `clusterSelector`). Throws a permanent error when the
 * cluster is not registered, or the policy gives the repository no access to it or to the
 * environment's namespace: a repository can never name a cluster the operator did not give it.
 */
export function grantFor(config: ServerConfig, repository: string, env: Environment): Grant {
  const cluster = config.clusters.find((c) => c.name === env.cluster);
  if (cluster === undefined) {
    throw permanent(`environment ${env.name}: cluster "${env.cluster}" is not registered with Ferry`);
  }
  const rules = config.policy.filter(
    (rule) => rule.repositories.some((r) => globMatch(r, repository)) && ruleCovers(rule, cluster),
  );
  if (rules.length === 0) {
    throw permanent(
      `environment ${env.name}: policy does not allow ${repository} to deploy to cluster "${env.cluster}"`,
    );
  }
  const grant: Grant = {
    cluster: env.cluster,
    namespaces: rules.flatMap((r) => r.namespaces),
    clusterScopedKinds: rules.flatMap((r) => r.clusterScopedKinds),
  };
  if (!grant.namespaces.some((n) => globMatch(n, env.namespace))) {
    throw permanent(
      `environment ${env.name}: policy does not allow ${repository} to deploy to namespace "${env.namespace}" on cluster "${env.cluster}"`,
    );
  }
  return grant;
}

/** Every object the grant does not cover, one line each; empty when all are allowed. */
export function policyViolations(grant: Grant, objects: ObjectRef[]): string[] {
  const problems: string[] = [];
  for (const ref of objects) {
    if (ref.namespace === undefined) {
      // A Namespace the grant's namespaces already cover needs no cluster-scoped permission.
      const ownNamespace = ref.kind === "Namespace" && grant.namespaces.some((n) => globMatch(n, ref.name));
      if (!ownNamespace && !grant.clusterScopedKinds.some((k) => k === "*" || k === ref.kind)) {
        problems.push(
          `${describeRef(ref)}: policy does not allow cluster-scoped ${ref.kind} objects on cluster "${grant.cluster}"`,
        );
      }
    } else if (!grant.namespaces.some((n) => globMatch(n, ref.namespace ?? ""))) {
      problems.push(
        `${describeRef(ref)}: policy does not allow namespace "${ref.namespace}" on cluster "${grant.cluster}"`,
      );
    }
  }
  return problems;
}
