/**
 * `body` holding `marker` (a hidden HTML comment by which Ferry finds its comment or issue again):
 * as it is when it holds it, else with the marker on a line of its own before it.
 */
export function withMarker(body: string, marker: string): string {
  if (marker === "") throw new Error("a marker must not be empty");
  return body.includes(marker) ? body : `${marker}\n${body}`;
}
