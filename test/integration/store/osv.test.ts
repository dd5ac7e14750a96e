import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { importVulnerabilities } from '../../../src/app/db.js';
import { scanBom } from '../../../src/scan/database.js';
import { osvDataState, type Store } from '../../../src/store/index.js';
import { type StoreDialectFactory, storeDialects } from '../../helpers/postgres.js';
import { tempDir } from '../../helpers/tmp.js';
import { VECTORS } from '../../helpers/vectors.js';

const DIALECTS = storeDialects();
/** The dialect of the running test (set by each describe.each block). */
let current: StoreDialectFactory;

const OSV = join(VECTORS, 'osv');
const now = () => new Date('2026-11-26T00:00:00Z');

/** The import use case over one open store. */
const importOsv = (store: Store, source: string, opts: { now: () => Date }) =>
  importVulnerabilities({ store: async () => store, now: opts.now, events: () => {}, cwd: '/' }, source);

async function withStore<T>(fn: (store: Store, dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir();
  const store = await current.fresh();
  try {
    return await fn(store, dir);
  } finally {
    await store.close();
  }
}

const bomOf = (...purls: string[]) => ({
  bomFormat: 'CycloneDX',
  metadata: { component: { 'bom-ref': 'root', name: 'app' } },
  components: purls.map((purl) => {
    const at = purl.lastIndexOf('@');
    return { 'bom-ref': purl, purl, name: purl.slice(8, at), version: purl.slice(at + 1) };
  }),
  dependencies: [{ ref: 'root', dependsOn: purls }],
});

describe.each(DIALECTS)('kiln db import on $name', (dialect: StoreDialectFactory) => {
  beforeEach(() => {
    current = dialect;
  });
  it('imports every vector record the schema accepts and reports the one it rejects, with why', async () => {
    await withStore(async (store, dir) => {
      const source = join(dir, 'osv');
      cpSync(OSV, source, { recursive: true });
      const report = await importOsv(store, source, { now });
      // osv-schema.json itself is not a record: it is rejected as one, not silently skipped.
      expect(report.rejected.map((r) => r.origin).sort()).toEqual([
        'osv-schema.json',
        'testdata/nointroduced-CVE-2023-41045.json',
      ]);
      const nointroduced = report.rejected.find((r) => r.origin.includes('nointroduced'));
      expect(nointroduced?.problems.join('\n')).toMatch(/introduced/);
      // testdata/nopackage-GHSA-9v2f-6vcg-3hgv.json has the id of GHSA-9v2f-6vcg-3hgv.json: one record, read twice.
      expect(report).toMatchObject({ added: 13, updated: 0, unchanged: 1 });
      expect((await osvDataState(store)).records).toBe(13);
    });
  });

  it('keeps the newest copy of a record and changes the revision only when something changed', async () => {
    await withStore(async (store, dir) => {
      const src = join(dir, 'data');
      mkdirSync(src);
      const base = JSON.parse(readFileSync(join(OSV, 'docs-examples/GHSA-r9p9-mrjm-926w.json'), 'utf8'));
      const write = (record: object) => writeFileSync(join(src, 'GHSA-r9p9-mrjm-926w.json'), JSON.stringify(record));
      write(base);
      expect(await importOsv(store, src, { now })).toMatchObject({ added: 1, updated: 0, unchanged: 0 });
      const first = await osvDataState(store);
      expect(await importOsv(store, src, { now })).toMatchObject({ added: 0, updated: 0, unchanged: 1 });
      expect((await osvDataState(store)).revision).toBe(first.revision);

      // An older copy (say, from a stale mirror) is ignored; a newer one replaces it, and a withdrawal counts.
      write({ ...base, modified: '2020-01-01T00:00:00Z', summary: 'stale' });
      expect(await importOsv(store, src, { now })).toMatchObject({ unchanged: 1 });
      write({ ...base, modified: '2030-01-01T00:00:00Z', withdrawn: '2030-01-01T00:00:00Z' });
      expect(await importOsv(store, src, { now })).toMatchObject({ updated: 1 });
      expect((await osvDataState(store)).revision).toBeGreaterThan(first.revision);
      const scan = await scanBom(store, bomOf('pkg:npm/elliptic@6.5.3'), 'test');
      expect(scan.result.findings).toEqual([]); // withdrawn
    });
  });

  it('finds the imported vulnerability in an SBOM, and not in the fixed version', async () => {
    await withStore(async (store) => {
      await importOsv(store, join(OSV, 'docs-examples'), { now });
      const scan = await scanBom(store, bomOf('pkg:npm/elliptic@6.5.3', 'pkg:npm/elliptic@6.5.4'), 'test');
      expect(scan.result.findings.map((f) => `${f.id} ${f.component.version} ${f.severity.level}`)).toEqual([
        'GHSA-r9p9-mrjm-926w 6.5.3 medium',
      ]);
      expect(scan.result.findings[0]?.aliases).toEqual(['CVE-2020-28498']);
      expect(scan.database).toMatchObject({ records: 8, lastUpdate: '2026-11-26T00:00:00.000Z' });
    });
  });

  it('reads a zip made by the zip tool the same way as the directory', async () => {
    await withStore(async (store, dir) => {
      const zip = join(dir, 'all.zip');
      const { execFileSync } = await import('node:child_process');
      execFileSync('zip', ['-q', '-r', zip, '.'], { cwd: join(OSV, 'docs-examples') });
      const report = await importOsv(store, zip, { now });
      expect(report).toMatchObject({ added: 8, rejected: [] });
    });
  });
});
