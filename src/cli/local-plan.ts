import { readFile, stat } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { FERRY_CONFIG_FILE, parseFerryConfig, type Environment, type RenderMode } from "../config/ferry-config.js";
import { environmentFor } from "../fleet/environment-for-cluster.js";
import { KubeClient } from "../kube/kube-client.js";
import { OwnedElsewhereError } from "../release/check-ownership.js";
import { planEnvironment } from "../release/plan-environment.js";
import { createRenderer } from "../render/select-renderer.js";
import type { SopsKey } from "../sops/sops-keys.js";
import { fullPlanText } from "../report/plan-comment.js";

/** Options of `ferry plan`. */
export interface LocalPlanOptions {
  dir: string;
  context?: string;
  /** Namespace for objects that name none; default `default` (with `.ferry.yml`: the environment's). */
  namespace?: string;
  kubeconfig?: string;
  /** How `dir` is rendered; default `auto`, as in `.ferry.yml`. */
  render?: RenderMode;
  /** Helm release name; default the environment's name. */
  releaseName?: string;
  /** The repository as Ferry names it (`acme/shop`): whose inventory the plan compares with; default `local`. */
  repo?: string;
  /** The environment planned: its name (default `local`), and with `.ferry.yml` in `dir` its settings. */
  env?: string;
}

/** Who a local plan plans as when not told: an environment no server releases. */
const LOCAL = "local";

/** The age keys sops itself would use: `SOPS_AGE_KEY` and `SOPS_AGE_KEY_FILE`, granted to the directory. */
function localAgeKeys(env: NodeJS.ProcessEnv): SopsKey[] {
  const everything = ["*"];
  return [
    ...(env.SOPS_AGE_KEY ? [{ repositories: everything, age: { env: "SOPS_AGE_KEY" } }] : []),
    ...(env.SOPS_AGE_KEY_FILE ? [{ repositories: everything, age: { file: env.SOPS_AGE_KEY_FILE } }] : []),
  ];
}

/** A mistake in the options: reported as an error (exit 2). */
class UsageError extends Error {}

/**
 * `ferry plan --dir`: the plan a release of a local directory would make, without a forge, printed
 * as text. Returns the exit code `flux diff` uses: 0 no changes, 1 changes, 2 error. The directory is
 * rendered as a release renders it (auto-detected Kustomize or Helm through FERRY_KUSTOMIZE/FERRY_HELM
 * or kustomize/helm on PATH), inside its git work tree, so an overlay may use bases elsewhere in it.
 * It plans as repository `repo`, environment `env` (both `local` unless given), so it compares with
 * that environment's inventory and owner annotations as the server's plan does, prune included; with
 * `.ferry.yml` in `dir` (a repository's root) and `env`, it takes path, namespace, rendering and
 * prune from that environment. SOPS files are decrypted with the age keys in `SOPS_AGE_KEY` or
 * `SOPS_AGE_KEY_FILE`, as sops reads them, and their values masked like the server's plans mask them.
 */
export async function localPlan(
  options: LocalPlanOptions,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  let client: KubeClient | undefined;
  try {
    if ((options.repo === undefined) !== (options.env === undefined)) {
      throw new UsageError(
        "give --repo and --env together: the server keeps an inventory per repository and environment (e.g. --repo acme/shop --env staging)",
      );
    }
    const kc = new KubeConfig();
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
    if (options.context) kc.setCurrentContext(options.context);
    const context = options.context ?? kc.getCurrentContext();
    const { root, env } = await target(resolve(options.dir), options, context);
    client = await KubeClient.fromKubeConfig(kc);
    const renderer = createRenderer({
      kustomize: process.env.FERRY_KUSTOMIZE ?? "kustomize",
      helm: process.env.FERRY_HELM ?? "helm",
      sops: { command: process.env.FERRY_SOPS ?? "sops", config: { keys: localAgeKeys(process.env) } },
    });
    const rendered = await renderer.render(root, env, { repository: options.repo ?? LOCAL });
    const plan = await planEnvironment({
      client,
      repository: options.repo ?? LOCAL,
      env,
      // The operator's own kubeconfig decides what may be read; there is no repository policy locally.
      grant: { cluster: env.cluster, namespaces: ["*"], clusterScopedKinds: ["*"] },
      rendered,
      sha: "local",
    });
    out(fullPlanText({ sha: "local", plans: [plan] }));
    return plan.objects.length > 0 ? 1 : 0;
  } catch (error) {
    const hint =
      error instanceof OwnedElsewhereError && options.repo === undefined
        ? `\n(ferry plan plans as repository ${LOCAL}, environment ${LOCAL} unless told otherwise: to plan as the environment that released these objects, name it, e.g. --repo acme/shop --env staging)`
        : "";
    out(`ferry plan: ${error instanceof Error ? error.message : String(error)}${hint}\n`);
    return 2;
  } finally {
    client?.close();
  }
}

/**
 * What to render and plan: the environment of `.ferry.yml` in `dir` that `options.env` names
 * (rendered from `dir`, the repository's root), or `dir` itself with the options' settings
 * (rendered inside its git work tree). The environment's cluster is the kubeconfig context.
 */
async function target(
  dir: string,
  options: LocalPlanOptions,
  context: string,
): Promise<{ root: string; env: Environment }> {
  const configFile = join(dir, FERRY_CONFIG_FILE);
  const text = await readFile(configFile, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (text === undefined) {
    const root = await workTree(dir);
    const name = options.env ?? LOCAL;
    const env: Environment = {
      name,
      branch: "-",
      path: relative(root, dir) || ".",
      cluster: context,
      namespace: options.namespace ?? "default",
      prune: true,
      render: options.render,
    };
    if (options.releaseName !== undefined) env.helm = { releaseName: options.releaseName };
    return { root, env };
  }
  const config = parseFerryConfig(text, configFile);
  const names = config.environments.map((e) => e.name).join(", ");
  if (options.env === undefined)
    throw new UsageError(
      `${configFile}: name the environment to plan with --env (${names}) and its repository with --repo`,
    );
  const declared = config.environments.find((e) => e.name === options.env);
  if (declared === undefined)
    throw new UsageError(`${configFile} has no environment "${options.env}" (it has ${names})`);
  const given = (["namespace", "render", "releaseName"] as const).filter((o) => options[o] !== undefined);
  if (given.length > 0) {
    const flags = given.map((o) => `--${o === "releaseName" ? "release-name" : o}`).join(", ");
    throw new UsageError(
      `${flags}: environment ${declared.name} of ${configFile} sets these; leave them out, or plan a directory without .ferry.yml`,
    );
  }
  // Cluster templates are filled from the kubeconfig context's name; a cluster's labels are the server config's, unknown here.
  const env = environmentFor(declared, { name: declared.cluster ?? context, labels: {} });
  return { root: dir, env: { ...env, cluster: context } };
}

/** The git work tree holding `dir` (the nearest ancestor with `.git`), or `dir` itself outside one. */
async function workTree(dir: string): Promise<string> {
  for (let current = dir; ; current = dirname(current)) {
    if (
      await stat(join(current, ".git")).then(
        () => true,
        () => false,
      )
    )
      return current;
    if (dirname(current) === current) return dir;
  }
}
