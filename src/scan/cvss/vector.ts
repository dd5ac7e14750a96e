// Splits a CVSS vector's `METRIC:VALUE/…` parts into a map; every CVSS version shares these rules.

/** The values each metric may take; the first list names the metrics a vector must give. */
export interface CvssGrammar {
  readonly mandatory: readonly string[];
  readonly values: Readonly<Record<string, readonly string[]>>;
}

/**
 * The metrics of `body` (the vector after its `CVSS:x.y/` prefix), in any order; undefined when a part is empty or
 * not `METRIC:VALUE`, a metric is unknown, repeated or has a value outside its list, or a mandatory metric is missing.
 */
export function parseCvssMetrics(body: string, grammar: CvssGrammar): ReadonlyMap<string, string> | undefined {
  const metrics = new Map<string, string>();
  for (const part of body.split('/')) {
    const colon = part.indexOf(':');
    if (colon <= 0 || colon !== part.lastIndexOf(':')) return undefined;
    const name = part.slice(0, colon);
    const value = part.slice(colon + 1);
    if (!Object.hasOwn(grammar.values, name) || metrics.has(name)) return undefined;
    if (!grammar.values[name]?.includes(value)) return undefined;
    metrics.set(name, value);
  }
  return grammar.mandatory.every((name) => metrics.has(name)) ? metrics : undefined;
}

/** The value of a metric `parseCvssMetrics` accepted; `fallback` for an optional one the vector left out. */
export function metric(metrics: ReadonlyMap<string, string>, name: string, fallback = 'X'): string {
  return metrics.get(name) ?? fallback;
}
