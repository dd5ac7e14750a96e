// Summaries and the printed table of the benchmark: medians, min–max, and ratios against Turborepo and direct.

/** Median, min and max in ms for every scenario and tool. */
export function summarize(samples) {
  const out = {};
  for (const [scenario, byTool] of Object.entries(samples)) {
    out[scenario] = {};
    for (const [tool, values] of Object.entries(byTool)) {
      const sorted = [...values].sort((a, b) => a - b);
      const mid = Math.floor(sorted.length / 2);
      const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
      out[scenario][tool] = { median, min: sorted[0], max: sorted[sorted.length - 1] };
    }
  }
  return out;
}

const LABELS = {
  cold: 'cold build',
  warm: 'warm no-op',
  replay: 'warm, Kiln --force',
  restore: 'restore (outputs deleted)',
  leaf: 'one leaf changed',
  root: 'root package changed',
};

const seconds = (ms) => (ms / 1000).toFixed(ms < 10_000 ? 3 : 2);
const cell = (s) => `${seconds(s.median)} [${seconds(s.min)}–${seconds(s.max)}]`;
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;

/** Prints one size's results as a Markdown table on stdout. */
export function printTable(n, runs, result, meta) {
  const rows = [
    [
      'scenario',
      'Kiln s median [min–max]',
      'via a warm worker s median [min–max]',
      'Turborepo s median [min–max]',
      'direct s median [min–max]',
      'Kiln/Turbo',
      'worker/Turbo',
      'Kiln/direct',
    ],
  ];
  for (const [scenario, s] of Object.entries(result.summary)) {
    rows.push([
      LABELS[scenario] ?? scenario,
      cell(s.kiln),
      cell(s.worker),
      cell(s.turbo),
      cell(s.direct),
      ratio(s.kiln.median, s.turbo.median),
      ratio(s.worker.median, s.turbo.median),
      ratio(s.kiln.median, s.direct.median),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const out = [
    '',
    `${n} packages (${result.layers} layers), ${runs} run(s) each, interleaved; turbo ${meta.turbo}; ${meta.cores} cores; load average ${result.load.join(' → ')}`,
    '',
    line(rows[0]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.slice(1).map(line),
    '',
    `Turborepo and direct outputs identical: ${result.outputsIdentical ? 'yes' : 'NO'}`,
    '',
  ];
  process.stdout.write(out.join('\n'));
}
