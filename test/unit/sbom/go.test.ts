import { promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/core/digest.js';
import type { SourceView } from '../../../src/plan/source-view.js';
import type { ComponentGraph } from '../../../src/sbom/graph.js';
import { parseGoMod } from '../../../src/sbom/lockfiles/go/modfile.js';
import { golangPurl, readGoModules } from '../../../src/sbom/lockfiles/go/sum.js';
import { makeSbom } from '../../../src/sbom/make.js';
import { thrown } from '../../helpers/errors.js';
import { tempDir } from '../../helpers/tmp.js';

const fixture = (path: string) => readFileSync(new URL(`../../fixtures/sbom/${path}`, import.meta.url), 'utf8');
const read = (dir: string, goMod = fixture(`${dir}/go.mod`), goSum = fixture(`${dir}/go.sum`)) =>
  readGoModules(goSum, 'go.sum', { text: goMod, file: 'go.mod' });
const refs = (g: ComponentGraph, pick: (c: ComponentGraph['components'][number]) => boolean = () => true) =>
  g.components.filter(pick).map((c) => c.ref);

describe('readGoModules on testify v1.8.1’s own go.mod and go.sum (written by the go command, see go-testify/README.md)', () => {
  const g = read('go-testify');

  it('lists the modules go.sum hashes the content of, not those with only a /go.mod line', () => {
    expect(fixture('go-testify/go.sum').trim().split('\n')).toHaveLength(16);
    expect(refs(g)).toEqual([
      'pkg:golang/github.com/davecgh/go-spew@v1.1.1',
      'pkg:golang/github.com/pmezard/go-difflib@v1.0.0',
      'pkg:golang/github.com/stretchr/objx@v0.5.0',
      'pkg:golang/gopkg.in/check.v1@v0.0.0-20161208181325-20d25e280405',
      'pkg:golang/gopkg.in/yaml.v3@v3.0.1',
    ]);
    // go.mod-only lines (objx v0.1.0 and v0.4.0, testify v1.7.1 and v1.8.0, go-spew v1.1.0, an older yaml.v3) are
    // versions Go read while resolving, never downloaded.
    expect(refs(g).some((r) => r.includes('objx@v0.4.0') || r.includes('testify'))).toBe(false);
  });

  it('marks go.mod’s requires direct (check.v1 is only yaml.v3’s) and records no edges, hashes or dev scope', () => {
    expect(refs(g, (c) => c.direct)).toEqual([
      'pkg:golang/github.com/davecgh/go-spew@v1.1.1',
      'pkg:golang/github.com/pmezard/go-difflib@v1.0.0',
      'pkg:golang/github.com/stretchr/objx@v0.5.0',
      'pkg:golang/gopkg.in/yaml.v3@v3.0.1', // written `"gopkg.in/yaml.v3"` (quoted) in yaml.v3's own go.mod style
    ]);
    expect(g.components.every((c) => c.hashes.length === 0 && c.dependsOn.length === 0 && c.scope === 'runtime')).toBe(
      true,
    );
    expect(g.root).toEqual({
      name: 'github.com/stretchr/testify',
      version: '',
      ref: 'pkg:golang/github.com/stretchr/testify',
    });
    expect(g.lockfile).toEqual({ path: 'go.sum', digest: sha256Digest(fixture('go-testify/go.sum')) });
  });
});

describe('readGoModules on a module with replace and exclude (go mod tidy, see go-module/README.md)', () => {
  const g = read('go-module');

  it('lists the downloaded modules, a directory replacement without version, and not the replaced module', () => {
    expect(refs(g)).toEqual([
      'pkg:golang/example.com/kiln/localhelper', // `=> ./localhelper`: no go.sum line, no version
      'pkg:golang/github.com/davecgh/go-spew@v1.1.1',
      'pkg:golang/github.com/kilnfixture/uuid@v1.3.1-0.20230101000000-0123456789ab', // the purl spec lowercases
      'pkg:golang/github.com/pkg/errors@v0.9.1',
      'pkg:golang/github.com/pmezard/go-difflib@v1.0.0',
      'pkg:golang/github.com/stretchr/testify@v1.8.1',
      'pkg:golang/gopkg.in/check.v1@v0.0.0-20161208181325-20d25e280405',
      'pkg:golang/gopkg.in/yaml.v3@v3.0.1',
    ]);
    expect(g.components.find((c) => c.ref.includes('kilnfixture'))?.name).toBe('github.com/KilnFixture/uuid');
  });

  it('takes direct from requires without // indirect, through replace', () => {
    expect(refs(g, (c) => c.direct)).toEqual([
      'pkg:golang/example.com/kiln/localhelper',
      'pkg:golang/github.com/kilnfixture/uuid@v1.3.1-0.20230101000000-0123456789ab', // google/uuid, replaced
      'pkg:golang/github.com/pkg/errors@v0.9.1',
      'pkg:golang/github.com/stretchr/testify@v1.8.1',
    ]);
  });

  it('honours replace and exclude even where go.sum still lists what they remove', () => {
    // Real go.sum lines (sum.golang.org's hashes, as in public go.sum files and go-testify/go.sum).
    const stale = `${fixture('go-module/go.sum')}github.com/google/uuid v1.3.0 h1:t6JiXgmwXMjEs8VusXIJk2BXHsn+wx8BZdTaoZ5fu7I=\ngithub.com/stretchr/objx v0.5.0 h1:1zr/of2m5FGMsad5YfcqgdqdWrIhu+EBEJRhR1U7z/c=\n`;
    const excluding = `${fixture('go-module/go.mod')}\nexclude github.com/stretchr/objx v0.5.0\n`;
    expect(refs(read('go-module', excluding, stale))).toEqual(refs(g));
    expect(refs(read('go-module', undefined, stale))).toContain('pkg:golang/github.com/stretchr/objx@v0.5.0');
    // A pin to another version of the same module keeps that version.
    const pinned = fixture('go-module/go.mod').replace(
      'exclude',
      'replace gopkg.in/yaml.v3 => gopkg.in/yaml.v3 v3.0.1\n\nexclude',
    );
    expect(refs(read('go-module', pinned))).toContain('pkg:golang/gopkg.in/yaml.v3@v3.0.1');
  });
});

describe('golangPurl', () => {
  it('splits the module path into namespace and name, lowercased and encoded', () => {
    // purl-spec types/golang-definition.json: namespace and name must be lowercased; `+` is not a bare purl character.
    expect(golangPurl('github.com/Azure/go-autorest', 'v14.2.0+incompatible')).toBe(
      'pkg:golang/github.com/azure/go-autorest@v14.2.0%2Bincompatible',
    );
    expect(golangPurl('example.com/kiln', '')).toBe('pkg:golang/example.com/kiln');
  });
});

describe('readGoModules refuses malformed files, naming file and line', () => {
  it('names bad go.sum lines and go.mod directives, all at once', () => {
    const goSum = `${fixture('go-module/go.sum')}github.com/x/y v1.0.0 sha256:abc\n`;
    const goMod = fixture('go-module/go.mod').replace('go 1.19', 'go 1.19\nrequir github.com/a/b v1.0.0');
    const err = thrown(() => read('go-module', goMod, goSum));
    expect(err.code).toBe('KILN_LOCKFILE_INVALID');
    expect(err.message).toContain('go.mod and go.sum is not a valid Go module (2 problems)');
    expect(err.message).toContain('go.mod:4: unknown directive "requir"');
    expect(err.message).toContain(
      'go.sum:17: expected "module version[/go.mod] h1:<44 base64 characters>", found "github.com/x/y v1.0.0 sha256:abc"',
    );
    expect(err.hint).toContain('go mod tidy');
  });

  it('refuses a replacement without version that is not a directory, an unclosed block and no module line', () => {
    expect(parseGoMod('module m\nreplace a => b\n', 'go.mod').problems).toEqual([
      'go.mod:2: "replace" takes "path [version] => path version" or "path [version] => ./dir"',
    ]);
    expect(parseGoMod('module m\nrequire (\n\ta v1.0.0\n', 'go.mod').problems).toEqual([
      'go.mod:2: "require (" is never closed',
    ]);
    expect(parseGoMod('go 1.21\n', 'go.mod').problems).toEqual(['go.mod:1: has no "module" directive']);
    expect(parseGoMod('module m\nrequire a 1.0\n', 'go.mod').problems).toEqual([
      'go.mod:2: "require" takes a module path and a version (vX.Y.Z), found "a 1.0"',
    ]);
  });

  it('reads // indirect only as the whole comment or before a semicolon', () => {
    const mod = parseGoMod(
      'module m\nrequire (\n\ta v1.0.0 // indirect\n\tb v1.0.0 // indirect; for tests\n\tc v1.0.0 // not indirect\n)\n',
      'go.mod',
    ).mod;
    expect(mod?.requires.map((r) => [r.path, r.indirect, r.line])).toEqual([
      ['a', true, 3],
      ['b', true, 4],
      ['c', false, 5],
    ]);
  });
});

describe('makeSbom with a committed go.sum', () => {
  it('reads go.mod beside it, and names both as lockfiles', async () => {
    const dir = tempDir('kiln-go-sbom-');
    writeFileSync(join(dir, 'go.sum'), fixture('go-module/go.sum'));
    const view = { projectDir: dir, readFile: (p: string) => fsp.readFile(p) } as unknown as SourceView; // the two members makeSbom uses
    const source = { commit: 'b'.repeat(40), sourceDateEpoch: 1700000000, subdir: '' } as never;
    const make = () => makeSbom({ view, source, config: { name: 'go-app' }, kilnVersion: '0.0.0-test' });
    await expect(make()).rejects.toThrow("go.sum needs the module's go.mod beside it, and there is none");
    writeFileSync(join(dir, 'go.mod'), fixture('go-module/go.mod'));
    const sbom = await make();
    expect(sbom.warnings).toEqual([]);
    expect(sbom.lockfiles.map((l) => l.path)).toEqual(['go.sum', 'go.mod']);
    const bom = sbom.bom as { components: { purl: string }[]; metadata: { component: unknown } };
    expect(bom.metadata.component).toMatchObject({ group: 'example.com/kiln', name: 'fixture' }); // CycloneDX splits the purl
    expect(bom.components.map((c) => c.purl)).toContain('pkg:golang/github.com/stretchr/testify@v1.8.1');
  });
});
