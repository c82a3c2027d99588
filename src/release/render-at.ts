import type { Environment } from "../config/ferry-config.js";
import type { ServerConfig } from "../config/server-config.js";
import type { RepoRef } from "../domain/repo.js";
import { permanent } from "../errors.js";
import { environmentFor } from "../fleet/environment-for-cluster.js";
import type { Renderer, RenderedObject } from "../render/types.js";
import { short } from "../report/deploy-report.js";
import type { Checkouts } from "./checkout.js";

/** What {@link renderAt} renders: an environment of a commit, for one cluster, in a given namespace. */
export interface RenderAtInput {
  checkouts: Checkouts;
  renderer: Renderer;
  config: ServerConfig;
  /** The repository, whose granted SOPS keys decrypt its files. */
  repo: RepoRef;
  sha: string;
  environment: string;
  cluster: string;
  /** The namespace the environment's inventory lives in now: an older commit is released there too. */
  namespace: string;
}

/**
 * A commit's render of an environment for one cluster, as that commit's `.ferry.yml` declares the
 * environment (in `namespace`, where its history lives), with the environment resolved for the
 * cluster: what a rollback and a reconcile use when no rollout of the commit is stored any more.
 */
export async function renderAt(input: RenderAtInput): Promise<{ env: Environment; rendered: RenderedObject[] }> {
  const checkout = await input.checkouts.get(input.sha);
  const declared = (await checkout.config()).environments.find((e) => e.name === input.environment);
  if (!declared) throw permanent(`${short(input.sha)}'s .ferry.yml has no environment ${input.environment}`);
  const clusterConfig = input.config.clusters.find((c) => c.name === input.cluster);
  if (!clusterConfig) throw permanent(`cluster "${input.cluster}" is no longer registered with Ferry`);
  const env = { ...environmentFor(declared, clusterConfig), namespace: input.namespace };
  return { env, rendered: await input.renderer.render(checkout.root, env, { repository: input.repo.fullName }) };
}
