import { describe, expect, it } from 'vitest';
import { KilnConfigSchema, type PolicyConfig } from '../../../src/config/schema.js';
import { blockedHint, decide, type GateEvidence, type GateInput } from '../../../src/policy/gate.js';
import { bomGraph } from '../../../src/scan/bom-components.js';
import { matchVulnerabilities } from '../../../src/scan/match.js';
import type { OsvRecord } from '../../../src/scan/osv/types.js';
import { parseOpenVex } from '../../../src/scan/vex/openvex.js';

/** The policy as kiln.yaml would give it (defaults filled in by the real schema). */
function policy(raw: object = {}): PolicyConfig {
  return KilnConfigSchema.parse({
    name: 'app',
    steps: { s: { run: 'true' } },
    artifacts: [{ name: 'a', from: 's', path: 'x' }],
    policy: raw,
  }).policy;
}

const bom = {
  bomFormat: 'CycloneDX',
  metadata: { component: { 'bom-ref': 'app', name: 'app', version: '1.0.0', purl: 'pkg:npm/app@1.0.0' } },
  components: [
    {
      'bom-ref': 'e',
      name: 'express',
      version: '4.17.1',
      purl: 'pkg:npm/express@4.17.1',
      scope: 'required',
      licenses: [{ expression: 'MIT' }],
    },
    {
      'bom-ref': 'q',
      name: 'qs',
      version: '6.7.0',
      purl: 'pkg:npm/qs@6.7.0',
      scope: 'required',
      licenses: [{ expression: 'BSD-3-Clause' }],
    },
    {
      'bom-ref': 'g',
      name: 'gpl-thing',
      version: '1.0.0',
      purl: 'pkg:npm/gpl-thing@1.0.0',
      scope: 'required',
      licenses: [{ expression: 'GPL-3.0-only' }],
    },
    {
      'bom-ref': 'd',
      name: 'dev-gpl',
      version: '1.0.0',
      purl: 'pkg:npm/dev-gpl@1.0.0',
      scope: 'excluded',
      licenses: [{ expression: 'GPL-3.0-only' }],
    },
  ],
  dependencies: [
    { ref: 'app', dependsOn: ['e', 'g', 'd'] },
    { ref: 'e', dependsOn: ['q'] },
  ],
};
const graph = bomGraph(bom, 'test');
const qsRecord: OsvRecord = {
  id: 'GHSA-hrpp-h998-j3pp',
  modified: '2023-01-01T00:00:00Z',
  aliases: ['CVE-2022-24999'],
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H' }], // 7.5 high
  affected: [
    {
      package: { ecosystem: 'npm', name: 'qs' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '6.7.0' }, { fixed: '6.7.3' }] }],
    },
  ],
};
const scan = matchVulnerabilities(graph, (c) => (c.name === 'qs' ? [qsRecord] : []));
const evidence: GateEvidence = { sbom: true, signed: true, hermetic: { ok: true, why: '' }, vulnerabilityRecords: 1 };

function gate(p: PolicyConfig, over: Partial<GateInput> = {}) {
  return decide({
    policy: p,
    scan,
    graph,
    vex: [],
    evidence,
    today: '2026-11-26',
    ...over,
  });
}

describe('the policy gate', () => {
  it('passes a high finding under the default threshold (critical), as a warning with its path', () => {
    const d = gate(policy());
    expect(d.verdict).toBe('pass');
    expect(d.violations).toEqual([]);
    expect(d.warnings).toContain('app → express@4.17.1 → qs@6.7.0: GHSA-hrpp-h998-j3pp (high 7.5), fixed in 6.7.3');
  });

  it('blocks at failOn: high, naming the dependency path, severity and fix', () => {
    const d = gate(policy({ vulnerabilities: { failOn: 'high' } }));
    expect(d.verdict).toBe('block');
    expect(d.violations).toEqual([
      {
        kind: 'vulnerability',
        id: 'GHSA-hrpp-h998-j3pp',
        component: 'pkg:npm/qs@6.7.0',
        message: 'app → express@4.17.1 → qs@6.7.0: GHSA-hrpp-h998-j3pp (high 7.5), fixed in 6.7.3',
      },
    ]);
  });

  it('lets a live exception through (by alias, for that package) and blocks again once it expired', () => {
    const exception = {
      id: 'CVE-2022-24999',
      package: 'qs',
      reason: 'not reachable from our code',
      expires: '2026-12-31',
    };
    const live = gate(policy({ vulnerabilities: { failOn: 'high' }, exceptions: [exception] }));
    expect(live.verdict).toBe('pass');
    expect(live.waived).toEqual([
      {
        id: 'GHSA-hrpp-h998-j3pp',
        component: 'pkg:npm/qs@6.7.0',
        by: 'exception',
        reason: 'exception until 2026-12-31: not reachable from our code',
      },
    ]);
    const expired = gate(policy({ vulnerabilities: { failOn: 'high' }, exceptions: [exception] }), {
      today: '2027-01-01',
    });
    expect(expired.verdict).toBe('block');
    expect(expired.violations[0]?.message).toMatch(/\(its exception expired on 2026-12-31\)$/);
    expect(expired.warnings).toContain(
      'policy.exceptions[0] (CVE-2022-24999) expired on 2026-12-31: it no longer applies',
    );
    // The last day still counts.
    expect(
      gate(policy({ vulnerabilities: { failOn: 'high' }, exceptions: [exception] }), { today: '2026-12-31' }).verdict,
    ).toBe('pass');
  });

  it('prefers a live exception to an expired one for the same finding (also under an alias)', () => {
    const exceptions = [
      { id: 'GHSA-hrpp-h998-j3pp', reason: 'old', expires: '2024-01-01' },
      { id: 'CVE-2022-24999', reason: 'renewed', expires: '2099-01-01' },
    ];
    const d = gate(policy({ vulnerabilities: { failOn: 'high' }, exceptions }));
    expect(d.verdict).toBe('pass');
    expect(d.waived[0]?.reason).toBe('exception until 2099-01-01: renewed');
  });

  it('does not apply an exception for another package', () => {
    const exception = { id: 'GHSA-hrpp-h998-j3pp', package: 'express', reason: 'x', expires: '2099-01-01' };
    expect(gate(policy({ vulnerabilities: { failOn: 'high' }, exceptions: [exception] })).verdict).toBe('block');
  });

  it('waives a finding an OpenVEX not_affected statement covers: the component itself, or it inside our product', () => {
    const vexOf = (products: object[]) =>
      parseOpenVex(
        JSON.stringify({
          '@context': 'https://openvex.dev/ns/v0.2.0',
          '@id': 'https://example.com/vex/1',
          author: 'Security Team',
          timestamp: '2026-01-01T00:00:00Z',
          version: 1,
          statements: [
            {
              vulnerability: { name: 'CVE-2022-24999' },
              products,
              status: 'not_affected',
              justification: 'vulnerable_code_not_in_execute_path',
            },
          ],
        }),
        'vex.json',
      );
    const strict = policy({ vulnerabilities: { failOn: 'high' } });
    const direct = gate(strict, { vex: [vexOf([{ '@id': 'pkg:npm/qs@6.7.0' }])] });
    expect(direct.verdict).toBe('pass');
    expect(direct.waived[0]).toMatchObject({
      by: 'vex',
      reason: 'VEX not_affected: vulnerable_code_not_in_execute_path',
    });
    const ours = [{ '@id': 'pkg:npm/app', subcomponents: [{ '@id': 'pkg:npm/qs@6.7.0' }] }];
    expect(gate(strict, { vex: [vexOf(ours)] }).verdict).toBe('pass');
    // Someone else's product ruling out qs in *their* use says nothing about ours.
    const theirs = [{ '@id': 'pkg:npm/other-app@9.9.9', subcomponents: [{ '@id': 'pkg:npm/qs@6.7.0' }] }];
    expect(gate(strict, { vex: [vexOf(theirs)] }).verdict).toBe('block');
  });

  it('denies licenses of shipped dependencies only, and allows with an allow list that covers them', () => {
    const d = gate(policy({ licenses: { deny: ['GPL-3.0-only'] } }));
    expect(d.verdict).toBe('block');
    expect(d.violations.map((v) => `${v.kind} ${v.component}`)).toEqual(['license pkg:npm/gpl-thing@1.0.0']);
    expect(d.violations[0]?.message).toMatch(/^app → gpl-thing@1\.0\.0: license GPL-3\.0-only: /);
    expect(gate(policy({ licenses: { allow: ['MIT', 'BSD-3-Clause', 'GPL-3.0-only'] } })).verdict).toBe('pass');
    const narrow = gate(policy({ licenses: { allow: ['MIT'] } }));
    expect(narrow.violations.map((v) => v.component).sort()).toEqual(['pkg:npm/gpl-thing@1.0.0', 'pkg:npm/qs@6.7.0']);
  });

  it('blocks on a missing requirement, each with its reason', () => {
    const d = gate(policy({ require: ['sbom', 'signature', 'hermetic', 'vulnerability-data'] }), {
      evidence: {
        sbom: true,
        signed: false,
        hermetic: { ok: false, why: 'step(s) deps had network access' },
        vulnerabilityRecords: 0,
      },
    });
    expect(d.violations.map((v) => v.id)).toEqual(['signature', 'hermetic', 'vulnerability-data']);
    expect(d.violations[1]?.message).toBe('the policy requires a hermetic build: step(s) deps had network access');
    // The hint fits what blocked: no dependency upgrade for a network step.
    const hint = blockedHint(d.violations);
    expect(hint).toContain('none with network: true');
    expect(hint).toContain('kiln db import');
    expect(hint).not.toContain('upgrade');
  });

  it('treats a finding without severity as the policy says (unscored)', () => {
    const unscored = matchVulnerabilities(graph, (c) => (c.name === 'qs' ? [{ ...qsRecord, severity: [] }] : []));
    expect(gate(policy({ vulnerabilities: { unscored: 'block' } }), { scan: unscored }).verdict).toBe('block');
    expect(gate(policy({ vulnerabilities: { unscored: 'allow' } }), { scan: unscored }).warnings).toEqual([]);
  });
});
