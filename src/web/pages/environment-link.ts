/** The web view's address of an environment: `/environments/<forge>/<repository path>/<environment>`. */
export function environmentPath(forge: string, repository: string, environment: string): string {
  const segments = [forge, ...repository.split("/"), environment].map(encodeURIComponent);
  return `/environments/${segments.join("/")}`;
}

/** `2026-12-06 09:48 UTC`. */
export function displayTime(iso: string | number | undefined): string {
  if (iso === undefined) return "";
  return new Date(iso)
    .toISOString()
    .replace("T", " ")
    .replace(/:\d\d(\.\d+)?Z$/, " UTC");
}

/** The first 8 characters of a commit. */
export const shortSha = (sha: string | undefined): string => (sha ?? "").slice(0, 8);
