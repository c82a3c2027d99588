import type { FerryError } from "../errors.js";

/**
 * Runs one call to a forge's API, turning its failure into a FerryError (through the forge's own
 * `toError`) whose message says what Ferry was `doing`.
 */
export async function forgeCall<T>(
  doing: string,
  run: () => Promise<T>,
  toError: (error: unknown, doing: string) => FerryError,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toError(error, doing);
  }
}
