/**
 * `description` cut to `max` characters, ending with "…" when cut and never splitting a surrogate
 * pair; forges cap status descriptions (GitHub at 140 characters, GitLab at 255).
 */
export function trimDescription(description: string, max: number): string {
  if (description.length <= max) return description;
  let cut = description.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
