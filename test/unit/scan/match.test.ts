import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coordinatesOfPurl } from '../../../src/ecosystems/ecosystem.js';
import { type BomGraph, bomGraph } from '../../../src/scan/bom-components.js';
import { matchVulnerabilities } from '../../../src/scan/match.js';
import { affectsVersion } from '../../../src/scan/osv/affected.js';
import type { OsvAffected, OsvRecord } from '../../../src/scan/osv/types.js';
import { VECTORS } from '../../helpers/vectors.js';

const OSV = join(VECTORS, 'osv');
const vector = (path: string) => JSON.parse(readFileSync(join(OSV, path), 'utf8')) as OsvRecord;

const npm = (events: object[], extra: Partial<OsvAffected> = {}): OsvAffected => ({
  package: { ecosystem: 'npm', name: 'qs' },
  ranges: [{ type: 'SEMVER', events: events as never }],
  ...extra,
});

describe('whether an OSV affected entry covers a version', () => {
  it('honours several introduced/fixed pairs in one range, in any order of events', () => {
    // Affected: [1.0.0, 1.2.0) and [2.0.0, 2.1.3); events deliberately unsorted, as OSV allows.
    const entry = npm([{ fixed: '2.1.3' }, { introduced: '1.0.0' }, { introduced: '2.0.0' }, { fixed: '1.2.0' }]);
    const answers = ['0.9.9', '1.0.0', '1.1.9', '1.2.0', '1.9.0', '2.0.0', '2.1.2', '2.1.3', '3.0.0'].map(
      (v) => [v, affectsVersion(entry, 'npm', v).affected] as const,
    );
    expect(Object.fromEntries(answers)).toEqual({
      '0.9.9': false,
      '1.0.0': true,
      '1.1.9': true,
      '1.2.0': false,
      '1.9.0': false,
      '2.0.0': true,
      '2.1.2': true,
      '2.1.3': false,
      '3.0.0': false,
    });
    expect(affectsVersion(entry, 'npm', '1.1.0').fixedIn).toEqual(['1.2.0']);
    expect(affectsVersion(entry, 'npm', '2.0.5').fixedIn).toEqual(['2.1.3']);
  });

  it('treats last_affected as inclusive and introduced "0" as every version before it', () => {
    const entry = npm([{ introduced: '0' }, { last_affected: '4.17.20' }]);
    expect(affectsVersion(entry, 'npm', '0.0.1').affected).toBe(true);
    expect(affectsVersion(entry, 'npm', '4.17.20').affected).toBe(true);
    expect(affectsVersion(entry, 'npm', '4.17.21').affected).toBe(false);
    expect(affectsVersion(entry, 'npm', '4.17.20').fixedIn).toEqual([]);
  });

  it('treats limit as an exclusive upper bound of the whole range: the limit itself and all above are not affected', () => {
    const entry = npm([{ introduced: '1.0.0' }, { limit: '2.0.0' }]);
    const answers = ['0.9.9', '1.0.0', '1.9.9', '2.0.0-rc.1', '2.0.0', '2.0.1', '3.0.0'].map(
      (v) => [v, affectsVersion(entry, 'npm', v).affected] as const,
    );
    expect(Object.fromEntries(answers)).toEqual({
      '0.9.9': false,
      '1.0.0': true,
      '1.9.9': true,
      '2.0.0-rc.1': true,
      '2.0.0': false, // exclusive: v < limit, as the spec's BeforeLimits says
      '2.0.1': false,
      '3.0.0': false,
    });
    // A limit is not a fix: there is no version to upgrade to.
    expect(affectsVersion(entry, 'npm', '1.5.0').fixedIn).toEqual([]);
  });

  it('lets a limit bound introductions after it, below any of several limits, and "*" be no limit', () => {
    // BeforeLimits is checked apart from the timeline: an introduced event above every limit affects nothing.
    const above = npm([{ introduced: '0' }, { fixed: '1.0.0' }, { introduced: '3.0.0' }, { limit: '2.0.0' }]);
    expect(affectsVersion(above, 'npm', '0.5.0').affected).toBe(true);
    expect(affectsVersion(above, 'npm', '3.1.0').affected).toBe(false);
    // Several limits: below any one of them is inside (each limit widens the scope, as each branch does for GIT).
    const several = npm([{ introduced: '1.0.0' }, { limit: '1.5.0' }, { limit: '2.0.0' }]);
    expect(affectsVersion(several, 'npm', '1.7.0').affected).toBe(true);
    expect(affectsVersion(several, 'npm', '2.0.0').affected).toBe(false);
    // "*" is infinity: with it, the other limits bound nothing.
    const star = npm([{ introduced: '1.0.0' }, { limit: '1.5.0' }, { limit: '*' }]);
    expect(affectsVersion(star, 'npm', '9.0.0')).toEqual({ affected: true, fixedIn: [], unordered: [] });
  });

  it('orders pre-releases below their release (semver), so 2.0.0-rc.1 is inside [1.0.0, 2.0.0)', () => {
    const entry = npm([{ introduced: '1.0.0' }, { fixed: '2.0.0' }]);
    expect(affectsVersion(entry, 'npm', '2.0.0-rc.1').affected).toBe(true);
    expect(affectsVersion(entry, 'npm', '1.0.0-beta').affected).toBe(false);
  });

  it('matches an explicit versions list even without ranges, exactly', () => {
    const entry: OsvAffected = { package: { ecosystem: 'npm', name: 'qs' }, versions: ['6.7.0', '6.7.1'] };
    expect(affectsVersion(entry, 'npm', '6.7.1').affected).toBe(true);
    expect(affectsVersion(entry, 'npm', '6.7.2').affected).toBe(false);
  });

  it('uses the ecosystem order for ECOSYSTEM ranges: PEP 440 for PyPI (the vector record for pikepdf)', () => {
    const record = vector('docs-examples/PYSEC-2021-XXXX.json');
    const entry = record.affected?.[0] as OsvAffected;
    expect(affectsVersion(entry, 'PyPI', '2.9.2').affected).toBe(true);
    expect(affectsVersion(entry, 'PyPI', '2.9.3').affected).toBe(true); // ECOSYSTEM range [2.8.0, 2.10.0)
    expect(affectsVersion(entry, 'PyPI', '2.10.0').affected).toBe(false);
    expect(affectsVersion(entry, 'PyPI', '2.8.0.post1').affected).toBe(true);
    expect(affectsVersion(entry, 'PyPI', '2.7.9').affected).toBe(false);
  });

  it('needs no ordering for "every version, never fixed": any version string is affected', () => {
    const entry = npm([{ introduced: '0' }]);
    expect(affectsVersion(entry, 'npm', 'not-a-version').affected).toBe(true);
    expect(affectsVersion(entry, 'npm', '1.2.3').affected).toBe(true);
  });

  it('says when it cannot order a range instead of guessing', () => {
    const answer = affectsVersion(
      { package: { ecosystem: 'Hackage', name: 'x' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '1' }] }] },
      'Hackage',
      '1.0',
    );
    expect(answer.affected).toBe(false);
    expect(answer.unordered).toEqual(['Kiln cannot order Hackage versions']);
  });

  it('leaves GIT ranges to the versions list', () => {
    const record = vector('docs-examples/OSV-2020-584.json');
    const answer = affectsVersion(record.affected?.[0] as OsvAffected, 'OSS-Fuzz', '1.0');
    expect(answer).toEqual({ affected: false, fixedIn: [], unordered: [] });
  });
});

function graph(components: [name: string, version: string][], edges: Record<string, string[]> = {}): BomGraph {
  const purl = (n: string, v: string) => `pkg:npm/${n}@${v}`;
  const bom = {
    bomFormat: 'CycloneDX',
    metadata: { component: { 'bom-ref': 'app', name: 'app', version: '1.0.0' } },
    components: components.map(([name, version]) => ({
      'bom-ref': purl(name, version),
      name,
      version,
      purl: purl(name, version),
    })),
    dependencies: [
      { ref: 'app', dependsOn: edges.app ?? [] },
      ...Object.entries(edges)
        .filter(([k]) => k !== 'app')
        .map(([ref, deps]) => ({ ref, dependsOn: deps })),
    ],
  };
  return bomGraph(bom, 'test SBOM');
}

const record = (id: string, over: Partial<OsvRecord> & { pkg?: string; events?: object[] } = {}): OsvRecord => ({
  id,
  modified: '2024-01-01T00:00:00Z',
  affected: [
    {
      package: { ecosystem: 'npm', name: over.pkg ?? 'qs' },
      ranges: [{ type: 'SEMVER', events: (over.events ?? [{ introduced: '0' }, { fixed: '6.7.3' }]) as never }],
    },
  ],
  ...over,
});

describe('matching an SBOM against records', () => {
  const g = graph(
    [
      ['express', '4.17.1'],
      ['qs', '6.7.0'],
    ],
    {
      app: ['pkg:npm/express@4.17.1'],
      'pkg:npm/express@4.17.1': ['pkg:npm/qs@6.7.0'],
    },
  );

  it('gives one finding per vulnerability however many aliased records match, with the path to it', () => {
    const records = [
      record('GHSA-hrpp-h998-j3pp', {
        aliases: ['CVE-2022-24999'],
        severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H' }],
      }),
      record('CVE-2022-24999', { events: [{ introduced: '6.7.0' }, { fixed: '6.7.3' }] }),
      record('OTHER-1', { aliases: ['CVE-2022-24999'] }),
    ];
    const result = matchVulnerabilities(g, () => records);
    expect(result.findings).toHaveLength(1);
    const [f] = result.findings;
    expect(f?.id).toBe('GHSA-hrpp-h998-j3pp'); // a database id is preferred over the CVE it aliases
    expect(f?.aliases).toEqual(['CVE-2022-24999', 'OTHER-1']);
    expect(f?.records).toEqual(['CVE-2022-24999', 'GHSA-hrpp-h998-j3pp', 'OTHER-1']);
    expect(f?.path).toEqual(['express@4.17.1', 'qs@6.7.0']);
    expect(f?.fixedIn).toEqual(['6.7.3']);
    expect(f?.severity).toMatchObject({ level: 'high', score: 7.5, source: 'CVSS_V3' });
  });

  it('skips withdrawn records and records for other packages or ecosystems', () => {
    const records = [
      record('GHSA-withdrawn', { withdrawn: '2024-02-01T00:00:00Z' }),
      record('GHSA-other-pkg', { pkg: 'express', events: [{ introduced: '5.0.0' }] }),
      { ...record('PYSEC-1'), affected: [{ package: { ecosystem: 'PyPI', name: 'qs' }, versions: ['6.7.0'] }] },
    ];
    expect(matchVulnerabilities(g, () => records).findings).toEqual([]);
  });

  it('looks records up by each component’s OSV coordinates', () => {
    const asked: string[] = [];
    matchVulnerabilities(g, (c) => {
      asked.push(`${c.ecosystem}:${c.name}@${c.version}`);
      return [];
    });
    expect(asked.sort()).toEqual(['npm:express@4.17.1', 'npm:qs@6.7.0']);
  });

  it('orders findings by severity, highest first', () => {
    const records = [
      record('GHSA-low', { database_specific: { severity: 'LOW' } }),
      record('GHSA-crit', { database_specific: { severity: 'CRITICAL' } }),
      record('GHSA-none'),
    ];
    const ids = matchVulnerabilities(g, () => records).findings.map((f) => `${f.id}:${f.severity.level}`);
    expect(ids).toEqual(['GHSA-crit:critical', 'GHSA-low:low', 'GHSA-none:unknown']);
  });
});

describe('matching Go modules', () => {
  it('finds a record for a module whose path has capitals, though its purl is lower-cased', () => {
    const bom = {
      bomFormat: 'CycloneDX',
      metadata: { component: { 'bom-ref': 'root', name: 'app' } },
      components: [
        {
          'bom-ref': 'toml',
          name: 'github.com/burntsushi/toml',
          version: 'v1.2.0',
          purl: 'pkg:golang/github.com/burntsushi/toml@v1.2.0',
        },
      ],
      dependencies: [{ ref: 'root', dependsOn: ['toml'] }],
    };
    const record: OsvRecord = {
      id: 'GO-2099-0001',
      modified: '2024-01-01T00:00:00Z',
      affected: [
        {
          package: { ecosystem: 'Go', name: 'github.com/BurntSushi/toml' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.3.0' }] }],
        },
      ],
    };
    const found = matchVulnerabilities(bomGraph(bom, 'go SBOM'), (c) =>
      c.name === 'github.com/burntsushi/toml' ? [record] : [],
    );
    expect(found.findings.map((f) => `${f.id} ${f.fixedIn.join()}`)).toEqual(['GO-2099-0001 1.3.0']);
  });
});

describe('OSV coordinates of a purl', () => {
  it('maps purl types to OSV ecosystems and normalises PyPI names', () => {
    expect(coordinatesOfPurl('pkg:npm/%40types/node@20.1.0')).toEqual({
      ecosystem: 'npm',
      name: '@types/node',
      version: '20.1.0',
    });
    expect(coordinatesOfPurl('pkg:pypi/Django_REST.framework@3.14.0')).toEqual({
      ecosystem: 'PyPI',
      name: 'django-rest-framework',
      version: '3.14.0',
    });
    expect(coordinatesOfPurl('pkg:golang/github.com/gin-gonic/gin@v1.9.0')?.name).toBe('github.com/gin-gonic/gin');
    expect(coordinatesOfPurl('pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1')?.name).toBe(
      'org.apache.logging.log4j:log4j-core',
    );
    expect(coordinatesOfPurl('pkg:generic/thing@1')).toBeUndefined();
  });
});
