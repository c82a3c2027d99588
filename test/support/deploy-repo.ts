import { GitRepo } from "./git-repo.js";

/** A small deploy repository with a feature branch merged into `main`, as forge adapter tests use it. */
export interface DeployRepo {
  /** The repository. */
  git: GitRepo;
  /** The first commit on `main`. */
  mainSha: string;
  /** The commit on `feature/x` (it changes `envs/staging/app.yaml`). */
  featureSha: string;
  /** The merge of `feature/x` into `main`, now `main`'s head. */
  mergeSha: string;
}

/** Creates the repository: `README.md` and `envs/staging/app.yaml` on `main`, changed on `feature/x`, merged with `mergeMessage`. */
export async function createDeployRepo(mergeMessage: string): Promise<DeployRepo> {
  const git = await GitRepo.create("deploy");
  await git.writeFiles({ "envs/staging/app.yaml": "kind: ConfigMap\n", "README.md": "hello\n" });
  const mainSha = await git.commit("initial");
  await git.branch("feature/x");
  await git.checkout("feature/x");
  await git.writeFiles({ "envs/staging/app.yaml": "kind: Secret\n" });
  const featureSha = await git.commit("change");
  const mergeSha = await git.merge("feature/x", "main", mergeMessage);
  return { git, mainSha, featureSha, mergeSha };
}
