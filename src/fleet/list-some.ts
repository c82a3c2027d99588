/** `a, b, c`, or the first `max` items and `and N more`, so a message about thousands of clusters stays short. */
export function listSome(items: string[], max: number): string {
  if (items.length <= max) return items.join(", ");
  return `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}
