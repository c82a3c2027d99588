import type { Environment } from "../config/ferry-config.js";
import type { ServerConfig } from "../config/server-config.js";
import type { RepoRef } from "../domain/repo.js";
import { permanent } from "../errors.js";
import { environmentFor } from "../fleet/environment-for-cluster.js";
import type { Checkouts } from "../release/checkout.js";
import { renderAt } from "../release/render-at.js";
import type { Renderer, RenderedObject } from "../render/types.js";
import type { RolloutStore } from "../rollout/rollout-store.js";

/** Where to find a released commit's render. */
export interface ReleasedRenderInput {
  store: RolloutStore;
  renderer: Renderer;
  config: ServerConfig;
  checkouts: Checkouts;
  repo: RepoRef;
  environment: string;
  cluster: string;
  /** The namespace the environment's inventory lives in on the cluster. */
  namespace: string;
  sha: string;
}

/**
 * The environment and render a cluster's release of `sha` applied: the rollout's own, kept in the
 * rollout store for 30 days, or once that expired the commit rendered again as its `.ferry.yml`
 * declares the environment (the renderers are deterministic, so it is the same render).
 */
export async function releasedRender(
  input: ReleasedRenderInput,
): Promise<{ env: Environment; rendered: RenderedObject[] }> {
  const id = await input.store.idOf(input.repo, input.environment, input.sha);
  if (id !== undefined) {
    const stored = await storedRender(input, id).catch(() => undefined);
    if (stored) return stored;
  }
  return renderAt(input);
}

async function storedRender(
  input: ReleasedRenderInput,
  id: string,
): Promise<{ env: Environment; rendered: RenderedObject[] }> {
  const clusterConfig = input.config.clusters.find((c) => c.name === input.cluster);
  if (!clusterConfig) throw permanent(`cluster "${input.cluster}" is no longer registered with Ferry`);
  const env = { ...environmentFor(await input.store.declared(id), clusterConfig), namespace: input.namespace };
  return { env, rendered: await input.store.rendered(id, input.cluster) };
}
