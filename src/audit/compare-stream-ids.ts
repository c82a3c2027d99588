/** Orders Redis stream ids (`<ms>-<seq>`) as Redis does: by time, then by sequence. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split("-").map(toBigInt);
  const [bm = 0n, bs = 0n] = b.split("-").map(toBigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

function toBigInt(part: string): bigint {
  return /^\d+$/.test(part) ? BigInt(part) : 0n;
}
