/** The p-th percentile (0-100) of `values` by nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface KindTally {
  offered: number;
  ok: number;
  timeout: number;
  error: number;
  shed: Record<string, number>;
  /** Latencies (ms) of requests served in full. */
  latencies: number[];
  /** How long a shed request took to be refused (ms): shedding should answer at once. */
  shedLatencies: number[];
  errors: string[];
}

export const emptyTally = (): KindTally => ({ offered: 0, ok: 0, timeout: 0, error: 0, shed: {}, latencies: [], shedLatencies: [], errors: [] });

export function shedTotal(t: KindTally): number {
  return Object.values(t.shed).reduce((a, b) => a + b, 0);
}
