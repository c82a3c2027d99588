/** One measured case, as bench/results/<name>.json holds it. */
export interface BenchCase {
  name: string;
  value: number;
  unit: string;
  /** What the value is compared against, measured in the same run. */
  baseline: string;
  baseline_value: number;
  /** value / baseline_value. */
  ratio: number;
}

/** What the runner gives each benchmark. */
export interface BenchContext {
  /** Admin kubeconfig of the run's control plane (current context: its first API server). */
  kubeconfig: string;
  /** The contexts of the run's API servers in `kubeconfig`, the first one current. */
  contexts: string[];
  /** kubectl built from the same Go modules as the control plane. */
  kubectl: string;
  /** A scratch directory removed after the run. */
  workDir: string;
}

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** A case from the median of Ferry's runs and of the baseline's, rounded for reading. */
export function benchCase(
  name: string,
  unit: string,
  values: number[],
  baseline: string,
  baselineValues: number[],
): BenchCase {
  const value = median(values);
  const baselineValue = median(baselineValues);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    name,
    value: round(value),
    unit,
    baseline,
    baseline_value: round(baselineValue),
    ratio: Math.round((value / baselineValue) * 1000) / 1000,
  };
}
