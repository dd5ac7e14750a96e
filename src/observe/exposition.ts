// The Prometheus text exposition format (version 0.0.4): metric families of counters, gauges and histograms, each
// with its HELP and TYPE, label values escaped as the format says.

/** Labels of one series, by name. */
export type Labels = Readonly<Record<string, string>>;

/** A counter or gauge: one value per series. */
export interface ScalarFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly series: readonly { readonly labels: Labels; readonly value: number }[];
}

/** A histogram: per series, the count at or below each bound (cumulative), the count and the sum. */
export interface HistogramFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  /** Upper bounds, ascending; `+Inf` is added. */
  readonly bounds: readonly number[];
  readonly series: readonly {
    readonly labels: Labels;
    readonly cumulative: readonly number[];
    readonly count: number;
    readonly sum: number;
  }[];
}

export type MetricFamily = ScalarFamily | HistogramFamily;

/** The media type of the text format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The families as exposition text; series in a stable order (by their labels). */
export function renderExposition(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    const byLabels = <T extends { readonly labels: Labels }>(list: readonly T[]) =>
      [...list].sort((a, b) => compare(labelText(a.labels), labelText(b.labels)));
    if (f.type === 'histogram') {
      for (const s of byLabels(f.series)) {
        f.bounds.forEach((bound, i) => {
          out.push(`${f.name}_bucket${labelText({ ...s.labels, le: boundText(bound) })} ${num(s.cumulative[i] ?? 0)}`);
        });
        out.push(`${f.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${num(s.count)}`);
        out.push(`${f.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
        out.push(`${f.name}_count${labelText(s.labels)} ${num(s.count)}`);
      }
    } else {
      for (const s of byLabels(f.series)) out.push(`${f.name}${labelText(s.labels)} ${num(s.value)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** How a bound is written in `le` (and so how rules select it): `600`, `0.5`. */
export function boundText(bound: number): string {
  return Number.isInteger(bound) ? String(bound) : String(Number(bound.toPrecision(12)));
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function num(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
