// docs/reference/metrics.md names every metric Kiln exports with its type, and every alert `kiln slo rules` writes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sloRulesYaml } from '../../../src/app/observe.js';
import { metricFamilies } from '../../../src/observe/metrics.js';

const page = readFileSync(new URL('../../../docs/reference/metrics.md', import.meta.url), 'utf8');

describe('docs/reference/metrics.md', () => {
  it('lists every metric family with its type', () => {
    const families = metricFamilies({
      facts: { builds: [], artifacts: [], depsteps: [], queue: [], attempts: [], findings: [] },
      current: { queued: [], lastOsvImportAt: null },
      workers: [],
      projects: [],
      slo: { mainBranches: ['main'], releaseBranches: [] },
      now: 0,
    });
    expect(families.length).toBeGreaterThan(15);
    for (const f of families) expect(page, f.name).toMatch(new RegExp(`^\\| \`${f.name}\` +\\| ${f.type} `, 'm'));
  });

  it('lists every alert and every recording rule', () => {
    const rules = parse(sloRulesYaml()) as { groups: { rules: { alert?: string; record?: string }[] }[] };
    for (const r of rules.groups.flatMap((g) => g.rules)) {
      if (r.alert) {
        const base = r.alert.replace(/(SlowBurn|Budget)$/, 'FastBurn');
        const short = `…${r.alert.match(/(SlowBurn|Budget)$/)?.[1] ?? ''}`;
        expect(page, r.alert).toContain(`\`${base}\``);
        if (base !== r.alert) expect(page, r.alert).toMatch(new RegExp(`\`${base}\`, .*\`${short}\``));
      } else if (r.record) {
        expect(page, r.record).toContain(
          `\`${r.record.replace(/_rate(5m|30m|1h|2h|1d|3d)$|_rate6h$/, (m) => (r.record === 'kiln:cache_hits:ratio_rate6h' ? m : '_rate<w>'))}\``,
        );
      }
    }
  });
});
