import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/sbom/pnpm-v9-single');

// A pnpm install written offline: the package.json files the real packages ship (react@18.2.0 declares "MIT" on the
// registry, as npm recorded in test/fixtures/sbom/pnpm-npm-v3/package-lock.json; scheduler@0.23.2 too, here in the
// deprecated { type } form), laid out as pnpm does: real folders under .pnpm, a symlink at the top. react-dom is
// not installed, so its license stays unknown.
const DEPS_STEP = `  deps:
    run: |
      mkdir -p node_modules/.pnpm/react@18.2.0/node_modules/react node_modules/.pnpm/scheduler@0.23.2/node_modules/scheduler
      printf '{"name":"react","version":"18.2.0","license":"MIT"}' > node_modules/.pnpm/react@18.2.0/node_modules/react/package.json
      printf '{"name":"scheduler","version":"0.23.2","license":{"type":"MIT"}}' > node_modules/.pnpm/scheduler@0.23.2/node_modules/scheduler/package.json
      ln -s .pnpm/react@18.2.0/node_modules/react node_modules/react
    outputs: [node_modules]
`;

const kilnYaml = (policy: string) =>
  `name: licensed\nsteps:\n${DEPS_STEP}  make:\n    run: echo x > x.txt\n    outputs: [x.txt]\n` +
  `artifacts:\n  - name: x\n    from: make\n    path: x.txt\n    format: file\n${policy}`;

function setup(policy: string) {
  const root = tempDir();
  const repo = join(root, 'repo');
  makeRepo(repo, {
    'kiln.yaml': kilnYaml(policy),
    'package.json': readFileSync(join(FIXTURE, 'package.json'), 'utf8'),
    'pnpm-lock.yaml': readFileSync(join(FIXTURE, 'pnpm-lock.yaml'), 'utf8'),
    '.gitignore': 'kiln-out/\n',
  });
  return { repo, home: join(root, 'home') };
}

const payload = (bundleFile: string) =>
  JSON.parse(Buffer.from(JSON.parse(readFileSync(bundleFile, 'utf8')).dsseEnvelope.payload, 'base64').toString('utf8'));

type Bom = { components: { purl: string; licenses?: unknown }[] };
type Spdx = { packages: { externalRefs?: { referenceLocator: string }[]; licenseDeclared: string }[] };
const cdx = (bom: Bom, purl: string) => bom.components.find((c) => c.purl === purl)?.licenses;
const spdx = (doc: Spdx, purl: string) =>
  doc.packages.find((p) => p.externalRefs?.[0]?.referenceLocator === purl)?.licenseDeclared;

describe('licenses from the packages a step installed', () => {
  it('fills in what pnpm-lock.yaml lacks, in both delivered SBOMs and the signed one', () => {
    const { repo, home } = setup('policy:\n  licenses:\n    allow: [MIT]\n');
    const r = kiln(['build', '--json'], { cwd: repo, home });
    expect(r.status, r.stderr).toBe(0);
    const art = JSON.parse(r.stdout).artifacts[0] as { path: string; sbom: string; spdx: string };
    const bom = JSON.parse(readFileSync(art.sbom, 'utf8')) as Bom;
    const declaredMit = [{ expression: 'MIT', acknowledgement: 'declared' }];
    expect(cdx(bom, 'pkg:npm/react@18.2.0')).toEqual(declaredMit);
    expect(cdx(bom, 'pkg:npm/scheduler@0.23.2')).toEqual(declaredMit);
    expect(cdx(bom, 'pkg:npm/react-dom@18.2.0')).toBeUndefined(); // nothing installed for it: unknown
    const doc = JSON.parse(readFileSync(art.spdx, 'utf8')) as Spdx;
    expect(spdx(doc, 'pkg:npm/react@18.2.0')).toBe('MIT');
    expect(spdx(doc, 'pkg:npm/react-dom@18.2.0')).toBe('NOASSERTION');
    // What was signed is what was delivered.
    expect(payload(`${art.path}.cdx.sigstore.json`).predicate).toEqual(bom);
    expect(payload(`${art.path}.spdx.sigstore.json`).predicate).toEqual(doc);
    // The gate judged the installed licenses: react is no longer among those without one; react-dom still is.
    // (Without them, 7 runtime packages would be listed: react and scheduler too.)
    expect(r.stderr).toContain(
      'warning: 5 dependencies have no known SPDX license: is-number@6.0.0, is-odd@3.0.1, js-tokens@4.0.0, loose-envify@1.4.0, react-dom@18.2.0\n',
    );
    expect(r.stderr).toContain('licenses of 2 npm package(s) from the package.json files the steps installed');
  });

  it('blocks on a license found only in the installed package.json', () => {
    const { repo, home } = setup('policy:\n  licenses:\n    deny: [MIT]\n');
    const r = kiln(['build', '--json'], { cwd: repo, home });
    expect(r.status, r.stderr).toBe(5);
    const out = JSON.parse(r.stdout) as { status: string; violations: { message: string }[] };
    expect(out.status).toBe('blocked');
    // Both licenses came only from the installed package.json files; react-dom has none (unknown: a warning).
    expect(out.violations.map((v) => v.message)).toEqual([
      'kiln-fixture-pnpm-single → react@18.2.0: license MIT: MIT is denied by deny[0] ("MIT")',
      'kiln-fixture-pnpm-single → react-dom@18.2.0 → scheduler@0.23.2: license MIT: MIT is denied by deny[0] ("MIT")',
    ]);
  });
});
