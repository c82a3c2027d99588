/** A quantity as an exact fraction. */
interface Fraction {
  num: bigint;
  den: bigint;
}

/** Kubernetes' quantity syntax: a decimal number, then a binary suffix, a decimal exponent or a decimal suffix. */
const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?\d+)|(n|u|m|k|M|G|T|P|E))?$/;

const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** Exponents far beyond any real quantity are not worth a huge bigint. */
const MAX_EXPONENT = 100;

function parseQuantity(value: string | number): Fraction | undefined {
  const match = QUANTITY.exec(String(value));
  if (!match) return undefined;
  const [, sign, number = "", binary, exponent, decimal] = match;
  const [whole = "", fraction = ""] = number.split(".");
  let num = BigInt(`${whole}${fraction}` || "0") * (sign === "-" ? -1n : 1n);
  let den = 10n ** BigInt(fraction.length);
  const power = exponent !== undefined ? Number(exponent) : decimal !== undefined ? (DECIMAL[decimal] ?? 0) : 0;
  if (Math.abs(power) > MAX_EXPONENT) return undefined;
  if (power >= 0) num *= 10n ** BigInt(power);
  else den *= 10n ** BigInt(-power);
  if (binary !== undefined) num *= 1024n ** BigInt(BINARY[binary] ?? 0);
  return { num, den };
}

/**
 * Whether two resource quantities are the same amount, however written: the API server stores
 * `cpu: 0.5` as `500m` and `memory: 0.5Gi` as `512Mi`. False when either is not a quantity.
 */
export function sameQuantity(a: string | number, b: string | number): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  return x !== undefined && y !== undefined && x.num * y.den === y.num * x.den;
}
