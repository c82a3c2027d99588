import type { RenderTarget } from "./types.js";

/**
 * What a render depends on, as a string: two clusters whose targets give the same key get the same
 * objects, so a rollout renders once per key. The namespace counts only where the tool sees it
 * (Helm's `--namespace`, which `auto` may pick); plain and Kustomize renders leave namespaces to the release.
 */
export function renderKey(target: RenderTarget): string {
  const seesNamespace = target.render !== "plain" && target.render !== "kustomize";
  return JSON.stringify([
    target.path,
    target.render ?? "auto",
    target.helm ?? null,
    target.name,
    seesNamespace ? target.namespace : null,
  ]);
}
