import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type OsvReadResult, readOsvRecords } from '../../../src/scan/osv/read.js';
import { checkOsvRecord } from '../../../src/scan/osv/validate.js';
import { rejected } from '../../helpers/errors.js';
import { tempDir } from '../../helpers/tmp.js';
import { VECTORS } from '../../helpers/vectors.js';

// ossf/osv-schema at 51b8156b (see PROVENANCE.tsv): the JSON examples of docs/schema.md and the osv-linter testdata.
const OSV = join(VECTORS, 'osv');
const VECTOR_DIRS = ['docs-examples', 'testdata'] as const;
const vectorFiles = VECTOR_DIRS.flatMap((dir) => readdirSync(join(OSV, dir)).map((name) => `${dir}/${name}`)).sort();
const vector = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(OSV, file), 'utf8'));

// The one vector expected to fail (the vectors README: "all validate except testdata/nointroduced-*"): its only GIT
// range lists two `fixed` events and no `introduced`.
const NO_INTRODUCED = 'testdata/nointroduced-CVE-2023-41045.json';
const NO_INTRODUCED_PROBLEMS = [
  '/affected/0/ranges/0/events: has no "introduced" event (every range must say where affected versions start, "0" for all)',
];

async function collect(source: string): Promise<OsvReadResult[]> {
  const out: OsvReadResult[] = [];
  for await (const result of readOsvRecords(source)) out.push(result);
  return out;
}

function vectorCopy(): string {
  const dir = tempDir('kiln-osv-');
  for (const sub of VECTOR_DIRS) cpSync(join(OSV, sub), join(dir, sub), { recursive: true });
  return dir;
}

type EditableRange = { type: string; repo?: string; events: Record<string, string>[] };
interface EditableRecord {
  [key: string]: unknown;
  affected: [{ package: { ecosystem: string }; ranges: [EditableRange, ...EditableRange[]] }];
}

/** GO-2020-0001 of the osv-linter testdata, changed by `edit`, for the rules the vectors do not reach. */
function edited(edit: (doc: EditableRecord) => void): Record<string, unknown> {
  const doc = vector('testdata/GO-2020-0001.json') as EditableRecord;
  edit(doc);
  return doc;
}

function problemsOf(doc: unknown): readonly string[] {
  const check = checkOsvRecord(doc);
  if (check.kind === 'valid') throw new Error('expected the record to be rejected');
  return check.problems;
}

describe('readOsvRecords on the published OSV vectors', () => {
  it('reads every vector in path order, the records by their ids, and rejects exactly the one without introduced', async () => {
    const results = await collect(vectorCopy());
    expect(results.map((r) => r.origin)).toEqual(vectorFiles);
    const rejected = results.filter((r) => r.kind === 'rejected');
    expect(rejected).toEqual([{ kind: 'rejected', origin: NO_INTRODUCED, problems: NO_INTRODUCED_PROBLEMS }]);
    for (const result of results) {
      if (result.kind !== 'record') continue;
      expect(result.record.id).toBe(vector(result.origin).id);
      expect(Object.isFrozen(result.record)).toBe(true);
      expect(Object.isFrozen(result.record.affected?.[0])).toBe(true);
    }
    // GO-2020-0001 as published: one SEMVER range of github.com/gin-gonic/gin, fixed in 1.6.0.
    const gin = results.find((r) => r.origin === 'testdata/GO-2020-0001.json');
    expect(gin?.kind === 'record' && gin.record.affected?.[0]?.ranges).toEqual([
      { type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.6.0' }] },
    ]);
  });

  it('gives the same results, in the same order, from a zip of the same files made by the zip CLI', async () => {
    const dir = vectorCopy();
    execFileSync('zip', ['-q', '-X', join(dir, 'all.zip'), ...vectorFiles], { cwd: dir });
    const fromDir = await collect(vectorCopy());
    const fromZip = await collect(join(dir, 'all.zip'));
    expect(fromZip).toEqual(fromDir.map((r) => ({ ...r, origin: `all.zip:${r.origin}` })));
  });
});

describe('readOsvRecords on files that are not good records', () => {
  it('rejects, without stopping, files that are not UTF-8, not JSON, not objects or empty arrays', async () => {
    const dir = tempDir('kiln-osv-');
    writeFileSync(join(dir, 'a-truncated.json'), '{"id": "GHSA-xxxx", "modified": ');
    writeFileSync(join(dir, 'b-latin1.json'), Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
    writeFileSync(join(dir, 'c-string.json'), '"GHSA-xxxx"');
    writeFileSync(join(dir, 'd-empty.json'), '[]');
    cpSync(join(OSV, 'testdata/GO-2020-0001.json'), join(dir, 'e-good.json'));
    writeFileSync(join(dir, 'README.md'), 'not read: only *.json files are');
    const results = await collect(dir);
    expect(results.map((r) => [r.origin, r.kind === 'rejected' ? r.problems : r.record.id])).toEqual([
      ['a-truncated.json', [expect.stringMatching(/^\(file\): is not JSON \(.+\)$/)]],
      ['b-latin1.json', ['(file): is not UTF-8 text']],
      ['c-string.json', ['(record): must be object']],
      ['d-empty.json', ['(file): is an empty array; it holds no OSV record']],
      ['e-good.json', 'GO-2020-0001'],
    ]);
  });

  it('walks nested folders in path order and reads an array of records element by element', async () => {
    const dir = tempDir('kiln-osv-');
    mkdirSync(join(dir, 'go/2020'), { recursive: true });
    mkdirSync(join(dir, 'pypi'));
    cpSync(join(OSV, 'testdata/GO-2020-0001.json'), join(dir, 'go/2020/GO-2020-0001.json'));
    // One file holding several records, as curl publishes https://curl.se/docs/vuln.json and osv.dev's importer
    // (osv/sources.py, _parse_vulnerabilities) accepts: each element is its own result.
    const many = [
      vector('testdata/PYSEC-2023-74.json'),
      { id: 'PYSEC-0000-1' },
      vector('docs-examples/CVE-2019-3881.json'),
    ];
    writeFileSync(join(dir, 'pypi/many.json'), JSON.stringify(many));
    writeFileSync(join(dir, 'go-top.json'), JSON.stringify(vector('docs-examples/OSV-2020-584.json')));
    const results = await collect(dir);
    expect(results.map((r) => [r.origin, r.kind])).toEqual([
      ['go-top.json', 'record'], // '-' (0x2d) sorts before '/' (0x2f)
      ['go/2020/GO-2020-0001.json', 'record'],
      ['pypi/many.json[0]', 'record'],
      ['pypi/many.json[1]', 'rejected'],
      ['pypi/many.json[2]', 'record'],
    ]);
    expect(results[3]).toMatchObject({ problems: ["(record): must have required property 'modified'"] });
  });

  it('refuses a source that does not exist, or is not a directory, zip or JSON file, with a hint', async () => {
    const dir = tempDir('kiln-osv-');
    const missing = await rejected(collect(join(dir, 'nope')));
    expect(missing.code).toBe('KILN_NOT_FOUND');
    expect(missing.message).toContain(join(dir, 'nope'));
    expect(missing.hint).toContain('all.zip');
    writeFileSync(join(dir, 'notes.txt'), '{}');
    const neither = await rejected(collect(join(dir, 'notes.txt')));
    expect(neither.code).toBe('KILN_USAGE');
    expect(neither.message).toBe(
      `OSV source ${join(dir, 'notes.txt')} is neither a directory, a ZIP archive nor a .json file`,
    );
  });

  it('reads one JSON file holding an array of records, and keeps a record whose reference URL is malformed', async () => {
    const dir = tempDir('kiln-osv-');
    const record = vector('docs-examples/GHSA-r9p9-mrjm-926w.json');
    const odd = { ...record, id: 'GHSA-odd', references: [{ type: 'WEB', url: 'https://example.com/a b|c' }] };
    writeFileSync(join(dir, 'vuln.json'), JSON.stringify([record, odd]));
    const results = [];
    for await (const r of readOsvRecords(join(dir, 'vuln.json'))) results.push(r);
    expect(results.map((r) => (r.kind === 'record' ? `${r.origin} ${r.record.id}` : r.problems.join()))).toEqual([
      'vuln.json[0] GHSA-r9p9-mrjm-926w',
      'vuln.json[1] GHSA-odd',
    ]);
  });

  it('lets a damaged zip stop the import with the archive error rather than reading part of it', async () => {
    const dir = tempDir('kiln-osv-');
    writeFileSync(join(dir, 'all.zip'), `PK\u0003\u0004${' not really a zip'.repeat(4)}`);
    const err = await rejected(collect(join(dir, 'all.zip')));
    expect(err.code).toBe('KILN_IO');
    expect(err.message).toContain('no end of central directory record');
  });
});

describe('checkOsvRecord rules and problems', () => {
  it('reports every schema problem with its path and the rule it breaks', () => {
    const doc = edited((d) => {
      d.id = 'NOPE-1';
      d.affected[0].package.ecosystem = 'Cobol';
      d.affected[0].ranges.push({ type: 'GIT', events: [{ introduced: '0' }, { fixed: 'v1.2' }] });
      d.affected[0].ranges[0].events.push({ last_affected: '1.5.0' });
      d.surprise = true;
    });
    expect(problemsOf(doc)).toEqual([
      '(record): must NOT have additional properties "surprise"',
      '/id: must match pattern "^(x_|(ASB-A|PUB-A|ALPINE|ALSA|ALBA|ALEA|…" (Currently supported home database identifier prefixes)',
      '/affected/0/package/ecosystem: must match pattern "^(AlmaLinux|Alpaquita|Alpine|Android|Azu…" (Currently supported ecosystems)',
      '/affected/0/ranges/0: must NOT be valid (last_affected and fixed events are mutually exclusive)',
      "/affected/0/ranges/1: must have required property 'repo' (GIT ranges require a repo)",
      '/affected/0/ranges/1/events/1: must match exactly one schema in oneOf (GIT ranges must use full-length commit hashes)',
    ]);
  });

  it('rejects SEMVER and ECOSYSTEM events with an empty version, and an event with two kinds', () => {
    const doc = edited((d) => {
      d.affected[0].ranges[0].events = [{ introduced: '' }, { fixed: ' ' }];
      d.affected[0].ranges.push({ type: 'ECOSYSTEM', events: [{ introduced: '0', fixed: '2' }] });
    });
    expect(problemsOf(doc)).toEqual([
      '/affected/0/ranges/1/events/0: must match exactly one schema in oneOf (events must contain an introduced object and may contain fixed, last_affected or limit objects)',
      '/affected/0/ranges/0/events/0/introduced: must be a version, not empty, in a SEMVER range',
      '/affected/0/ranges/0/events/1/fixed: must be a version, not empty, in a SEMVER range',
    ]);
  });

  it('rejects a range with only fixed events through the range rule alone, not the schema restating it per event', () => {
    const doc = edited((d) => {
      d.affected[0].ranges[0].events = [{ fixed: '1.6.0' }];
    });
    expect(problemsOf(doc)).toEqual([
      '/affected/0/ranges/0/events: has no "introduced" event (every range must say where affected versions start, "0" for all)',
    ]);
  });

  it('drops the fields the schema lets be null, so records match their type', () => {
    const doc = edited((d) => {
      d.aliases = null;
      d.references = null;
    });
    const check = checkOsvRecord(doc);
    expect(check.kind).toBe('valid');
    expect(check.kind === 'valid' && Object.keys(check.record)).not.toContain('aliases');
    expect(check.kind === 'valid' && Object.keys(check.record)).not.toContain('references');
  });
});
