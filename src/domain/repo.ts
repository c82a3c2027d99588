/** Which forge a repository lives on. */
export type ForgeKind = "github" | "gitlab";

/** A repository on a forge, as jobs carry it. */
export interface RepoRef {
  forge: ForgeKind;
  /** `owner/name` (GitHub) or the project's path with namespace (GitLab). */
  fullName: string;
  /** GitHub App installation that can act on the repository. */
  installationId?: number;
  /** GitLab project id. */
  projectId?: number;
}
