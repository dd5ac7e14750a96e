import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoProject } from '../helpers/project.js';
import { kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

const KILN_YAML =
  'name: sbomtest\nsteps:\n  make:\n    run: echo x > x.txt\n    outputs: [x.txt]\nartifacts:\n  - name: x\n    from: make\n    path: x.txt\n    format: file\n';

describe('the SBOM of a build', () => {
  it('names every lockfile it cannot read instead of leaving its packages out silently', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, {
      ...demoProject(),
      'Gemfile.lock': 'GEM\n  remote: https://rubygems.org/\n  specs:\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n',
    });
    const r = kiln(['build', '--json'], { cwd: repo, home: join(root, 'home') });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: Gemfile.lock is not read yet: the packages it lists are not in the SBOM');
    const built = JSON.parse(r.stdout) as { artifacts: { sbom: string }[] };
    const bom = JSON.parse(readFileSync(built.artifacts[0]?.sbom ?? '', 'utf8'));
    expect(bom.components.length).toBeGreaterThan(0); // package-lock.json is still read
  });

  it('says so when there is no lockfile at all', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const { 'package-lock.json': _lock, ...files } = demoProject();
    makeRepo(repo, files);
    const r = kiln(['build'], { cwd: repo, home: join(root, 'home') });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('no lockfile Kiln reads in the project: the SBOM lists no dependencies');
  });

  it('reads a pnpm project, naming its root from package.json', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const fixture = resolve(import.meta.dirname, '../fixtures/sbom/pnpm-v9-single');
    makeRepo(repo, {
      'kiln.yaml':
        'name: onpnpm\nsteps:\n  make:\n    run: echo x > x.txt\n    outputs: [x.txt]\nartifacts:\n  - name: x\n    from: make\n    path: x.txt\n    format: file\n',
      'package.json': readFileSync(join(fixture, 'package.json'), 'utf8'),
      'pnpm-lock.yaml': readFileSync(join(fixture, 'pnpm-lock.yaml'), 'utf8'),
    });
    const r = kiln(['build', '--json'], { cwd: repo, home: join(root, 'home') });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('not read yet');
    const built = JSON.parse(r.stdout) as { artifacts: { sbom: string; spdx: string }[] };
    const bom = JSON.parse(readFileSync(built.artifacts[0]?.sbom ?? '', 'utf8'));
    const purls = bom.components.map((c: { purl: string }) => c.purl);
    expect(purls).toEqual(
      expect.arrayContaining(['pkg:npm/react@18.2.0', 'pkg:npm/react-dom@18.2.0', 'pkg:npm/scheduler@0.23.2']),
    );
    expect(bom.metadata.component.name).toBe('kiln-fixture-pnpm-single');
  });

  it('reads a yarn classic project, taking dev and direct dependencies from package.json', () => {
    const root = tempDir();
    const fixtures = resolve(import.meta.dirname, '../fixtures/sbom');
    const manifest = readFileSync(join(fixtures, 'yarn-classic', 'package.json'), 'utf8'); // yarn-npm has the same
    const components = (name: string, lockfile: string) => {
      const dir = join(root, name);
      makeRepo(dir, {
        'kiln.yaml': KILN_YAML,
        'package.json': manifest,
        [lockfile]: readFileSync(join(fixtures, name, lockfile), 'utf8'),
      });
      const r = kiln(['build', '--json'], { cwd: dir, home: join(root, 'home') });
      expect(r.status, r.stderr).toBe(0);
      const built = JSON.parse(r.stdout) as { artifacts: { sbom: string }[] };
      const bom = JSON.parse(readFileSync(built.artifacts[0]?.sbom ?? '', 'utf8'));
      return bom.components.map((c: { purl: string; scope?: string }) => `${c.purl} ${c.scope ?? 'required'}`).sort();
    };
    const viaYarn = components('yarn-classic', 'yarn.lock');
    expect(viaYarn.length).toBeGreaterThan(3);
    // The same packages and scopes as npm's own lockfile of that package.json.
    expect(viaYarn).toEqual(components('yarn-npm', 'package-lock.json'));
  });
});
