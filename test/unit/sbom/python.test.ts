import { promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../../src/core/digest.js';
import type { SourceView } from '../../../src/plan/source-view.js';
import type { ComponentGraph } from '../../../src/sbom/graph.js';
import { hostNpmPlatform } from '../../../src/sbom/lockfiles/npm/platform.js';
import {
  type MarkerEnvironment,
  type MarkerTruth,
  pythonEnvironment,
} from '../../../src/sbom/lockfiles/python/markers.js';
import { normalizePythonName, pypiPurl } from '../../../src/sbom/lockfiles/python/name.js';
import { readPoetryLockfile } from '../../../src/sbom/lockfiles/python/poetry.js';
import { readRequirementsTxt, requirementIncludes } from '../../../src/sbom/lockfiles/python/requirements.js';
import { installedPythonGraph } from '../../../src/sbom/lockfiles/python/scope.js';
import { readUvLockfile } from '../../../src/sbom/lockfiles/python/uv.js';
import { makeSbom } from '../../../src/sbom/make.js';
import { thrown } from '../../helpers/errors.js';
import { tempDir } from '../../helpers/tmp.js';

const fixture = (path: string) => readFileSync(new URL(`../../fixtures/sbom/${path}`, import.meta.url), 'utf8');
const pyproject = (dir: string) => ({ text: fixture(`${dir}/pyproject.toml`), file: 'pyproject.toml' });
const poetry = (dir: string, withPyproject = true, text = fixture(`${dir}/poetry.lock`)) =>
  readPoetryLockfile(text, 'poetry.lock', withPyproject ? { pyproject: pyproject(dir) } : {});
const requirements = (text: string, files: Record<string, string> = {}) =>
  readRequirementsTxt(text, 'requirements.txt', { files: new Map(Object.entries(files)) });
const INDEX = '?repository_url=http://127.0.0.1:8765/simple';
const get = (g: ComponentGraph, ref: string) => {
  const c = g.components.find((x) => x.ref === ref);
  if (c === undefined) throw new Error(`no component ${ref}`);
  return c;
};
// PyPI's sha256 of setuptools-65.5.0-py3-none-any.whl and wheel-0.40.0-py3-none-any.whl (the wheels CPython bundles;
// the same values are in public poetry.lock, Pipfile.lock and pip-compile files).
const SETUPTOOLS = { alg: 'SHA-256', hex: 'f62ea9da9ed6289bfe868cd6845968a2c854d1427f8548d52cae02a42b4f0356' };
const WHEEL = { alg: 'SHA-256', hex: 'd236b20e7cb522daf2390fa84c55eea81c5c30190f90f29ae2ca1ad8355bf247' };

describe('Python names and purls', () => {
  it('normalises names as PEP 503 does and lowercases them in purls (purl-spec pypi-definition.json)', () => {
    expect(normalizePythonName('Jinja2')).toBe('jinja2');
    expect(normalizePythonName('zope.interface')).toBe('zope-interface');
    expect(normalizePythonName('Foo__Bar-._baz')).toBe('foo-bar-baz');
    expect(pypiPurl('Django_Allauth', '12.23')).toBe('pkg:pypi/django-allauth@12.23');
    expect(pypiPurl('x', '1.0+local.1')).toBe('pkg:pypi/x@1.0%2Blocal.1');
  });
});

describe('readPoetryLockfile on poetry lockfiles of one project (see python-poetry-1.3/README.md)', () => {
  const real = poetry('python-poetry-1.3');

  it('reads lock-version 1.1, 2.0 (Poetry 1.3.2 wrote it) and 2.1 into the same graph', () => {
    expect(fixture('python-poetry-1.1/poetry.lock')).toMatch(/^\[metadata\.files\]$/m);
    expect(fixture('python-poetry-1.3/poetry.lock')).toMatch(/^category = "dev"$/m);
    expect(fixture('python-poetry-2/poetry.lock')).toMatch(/^groups = \["dev"\]$/m);
    for (const dir of ['python-poetry-1.1', 'python-poetry-2']) {
      expect(poetry(dir).components).toEqual(real.components);
      expect(poetry(dir).root).toEqual(real.root);
    }
  });

  it('lists the 10 locked packages from the index named in [package.source], with their file hashes', () => {
    expect(real.components).toHaveLength(10);
    expect(real.root).toEqual({
      name: 'kiln-fixture-python',
      version: '0.1.0',
      ref: 'pkg:pypi/kiln-fixture-python@0.1.0',
    });
    expect(get(real, `pkg:pypi/setuptools@65.5.0${INDEX}`).hashes).toEqual([SETUPTOOLS]);
    expect(get(real, `pkg:pypi/wheel@0.40.0${INDEX}`)).toMatchObject({ scope: 'dev', direct: true, hashes: [WHEEL] });
  });

  it('resolves edges by normalised name (jinja2 asks for "MarkupSafe") and takes direct ones from pyproject.toml', () => {
    expect(get(real, `pkg:pypi/jinja2@3.1.6${INDEX}`).dependsOn).toEqual([`pkg:pypi/markupsafe@3.0.3${INDEX}`]);
    expect(get(real, `pkg:pypi/click@8.4.0${INDEX}`).dependsOn).toEqual([`pkg:pypi/colorama@0.4.6${INDEX}`]);
    expect(get(real, `pkg:pypi/flask@3.1.3${INDEX}`).dependsOn).toHaveLength(6);
    expect(real.components.filter((c) => c.direct).map((c) => c.name)).toEqual(['flask', 'setuptools', 'wheel']);
  });

  it('carries scopes down from pyproject.toml when the lockfile marks none (Poetry 1.5 to 1.8)', () => {
    const unmarked = fixture('python-poetry-1.3/poetry.lock').replace(/^category = .*\n/gm, '');
    const g = poetry('python-poetry-1.3', true, unmarked);
    expect(g.components.map((c) => c.scope)).toEqual(real.components.map((c) => c.scope));
    expect(poetry('python-poetry-1.3', false, unmarked).components.every((c) => c.scope === 'runtime')).toBe(true);
  });

  it('without pyproject.toml names no project and takes the packages nothing depends on as direct', () => {
    const g = poetry('python-poetry-1.3', false);
    expect(g.root).toEqual({ name: 'python-project', version: '', ref: 'pkg:generic/python-project' });
    expect(g.components.filter((c) => c.direct).map((c) => c.name)).toEqual(['flask', 'setuptools', 'wheel']);
  });

  it('gives git and URL sources vcs_url and download_url, and marks extras optional', () => {
    const text = `[[package]]\nname = "Requests"\nversion = "2.31.0"\ncategory = "main"\noptional = true\npython-versions = ">=3.7"\nfiles = []\n\n[package.source]\ntype = "git"\nurl = "https://github.com/psf/requests.git"\nreference = "main"\nresolved_reference = "0123456789abcdef0123456789abcdef01234567"\n\n[[package]]\nname = "six"\nversion = "1.16.0"\ncategory = "main"\noptional = false\npython-versions = "*"\nfiles = []\n\n[package.source]\ntype = "url"\nurl = "https://example.com/six-1.16.0.tar.gz"\n\n[metadata]\nlock-version = "2.0"\npython-versions = "^3.11"\ncontent-hash = "x"\n`;
    expect(readPoetryLockfile(text, 'poetry.lock').components.map((c) => [c.ref, c.scope])).toEqual([
      [
        'pkg:pypi/requests@2.31.0?vcs_url=git%2Bhttps://github.com/psf/requests.git%400123456789abcdef0123456789abcdef01234567',
        'optional',
      ],
      ['pkg:pypi/six@1.16.0?download_url=https://example.com/six-1.16.0.tar.gz', 'runtime'],
    ]);
  });

  it('refuses malformed entries and newer lock versions, naming file and line', () => {
    const text = fixture('python-poetry-1.3/poetry.lock')
      .replace('category = "dev"', 'category = "test"')
      .replace('hash = "sha256:d236b20e7cb522daf2390fa84c55eea81c5c30190f90f29ae2ca1ad8355bf247"', 'hash = "md5:00"');
    const err = thrown(() => readPoetryLockfile(text, 'poetry.lock'));
    const line = (s: string) => text.split('\n').indexOf(s) + 1;
    expect(err.message).toContain('poetry.lock is not a valid poetry lockfile (2 problems)');
    expect(err.message).toContain(
      `poetry.lock:${line('category = "test"')}: package "wheel": "category" must be "main" or "dev", found "test"`,
    );
    expect(err.message).toMatch(
      /poetry\.lock:\d+: package "wheel": "md5:00" is not sha256:, sha384: or sha512: followed by hex digits/,
    );
    const newer = fixture('python-poetry-2/poetry.lock').replace('lock-version = "2.1"', 'lock-version = "3.0"');
    expect(thrown(() => readPoetryLockfile(newer, 'poetry.lock')).message).toContain(
      'lock-version 3.0; Kiln reads poetry lockfiles 1.x and 2.x',
    );
    const broken = thrown(() => readPoetryLockfile('[[package]]\nname = "x"\nversion = 1.0\n', 'poetry.lock'));
    expect(broken.message).toContain('poetry.lock:3: package "x": "version" must be a non-empty string, found 1');
  });
});

describe('readUvLockfile (see python-uv/README.md)', () => {
  const uv = readUvLockfile(fixture('python-uv/uv.lock'), 'uv.lock');

  it('reads the same graph as poetry.lock of the same project: root from `editable = "."`, dev from dependency groups', () => {
    expect(uv.root).toEqual({
      name: 'kiln-fixture-python',
      version: '0.1.0',
      ref: 'pkg:pypi/kiln-fixture-python@0.1.0',
    });
    expect(uv.components).toEqual(poetry('python-poetry-1.3').components);
    expect(uv.lockfile).toEqual({ path: 'uv.lock', digest: sha256Digest(fixture('python-uv/uv.lock')) });
  });

  it('hashes sdists and wheels, and qualifies git and URL sources', () => {
    const text = `version = 1\nrevision = 3\nrequires-python = ">=3.12"\n\n[[package]]\nname = "app"\nversion = "1.0.0"\nsource = { virtual = "." }\ndependencies = [\n    { name = "colorama", marker = "sys_platform == 'win32'" },\n    { name = "six" },\n]\n\n[package.optional-dependencies]\ncli = [\n    { name = "rich" },\n]\n\n[[package]]\nname = "colorama"\nversion = "0.4.6"\nsource = { registry = "https://pypi.org/simple" }\nsdist = { url = "https://files.pythonhosted.org/packages/d8/53/6f443c9a4a8358a93a6792e2acffb9d9d5cb0a5cfd8802644b7b1c9a02e4/colorama-0.4.6.tar.gz", hash = "sha256:08695f5cb7ed6e0531a20572697297273c47b8cae5a63ffc6d6ed5c201be6e44", size = 27697, upload-time = "2022-10-25T02:36:22.414Z" }\nwheels = [\n    { url = "https://files.pythonhosted.org/packages/d1/d6/3965ed04c63042e047cb6a3e6ed1a63a35087b6a609aa3a15ed8ac56c221/colorama-0.4.6-py2.py3-none-any.whl", hash = "sha256:4f1d9991f5acc0ca119f9d443620b77f9d6b33703e51011c16baf57afb285fc6", size = 25335, upload-time = "2022-10-25T02:36:20.889Z" },\n]\n\n[[package]]\nname = "rich"\nversion = "13.7.1"\nsource = { git = "https://github.com/Textualize/rich?rev=v13.7.1#0123456789abcdef0123456789abcdef01234567" }\n\n[[package]]\nname = "six"\nversion = "1.16.0"\nsource = { url = "https://example.com/six-1.16.0.tar.gz" }\n`;
    const g = readUvLockfile(text, 'uv.lock');
    expect(g.root.name).toBe('app');
    expect(g.components.map((c) => [c.ref, c.scope, c.direct])).toEqual([
      ['pkg:pypi/colorama@0.4.6', 'runtime', true],
      [
        'pkg:pypi/rich@13.7.1?vcs_url=git%2Bhttps://github.com/Textualize/rich%400123456789abcdef0123456789abcdef01234567',
        'optional',
        true,
      ],
      ['pkg:pypi/six@1.16.0?download_url=https://example.com/six-1.16.0.tar.gz', 'runtime', true],
    ]);
    // PyPI's sha256 of colorama-0.4.6.tar.gz and colorama-0.4.6-py2.py3-none-any.whl (files.pythonhosted.org).
    expect(g.components[0]?.hashes.map((h) => h.hex)).toEqual([
      '08695f5cb7ed6e0531a20572697297273c47b8cae5a63ffc6d6ed5c201be6e44',
      '4f1d9991f5acc0ca119f9d443620b77f9d6b33703e51011c16baf57afb285fc6',
    ]);
  });

  it('refuses an edge to an unlisted package, a bad hash and another lockfile version, naming the line', () => {
    const text = fixture('python-uv/uv.lock')
      .replace('{ name = "blinker" }', '{ name = "blinkr" }')
      .replace('hash = "sha256:e1934eec', 'hash = "sha1:e1934eec');
    const err = thrown(() => readUvLockfile(text, 'uv.lock'));
    const flaskLine = text.split('\n').indexOf('name = "flask"');
    expect(err.message).toContain(
      `uv.lock:${flaskLine}: package "flask": depends on "blinkr", which the lockfile does not list`,
    );
    expect(err.message).toMatch(/uv\.lock:\d+: package "blinker": "sha1:e1934eec.*" is not sha256:/);
    const v2 = thrown(() =>
      readUvLockfile(fixture('python-uv/uv.lock').replace('version = 1\n', 'version = 2\n'), 'uv.lock'),
    );
    expect(v2.message).toBe('uv.lock:1: uv.lock version 2; Kiln reads version 1');
  });
});

describe('readRequirementsTxt on pip-compile output (see python-requirements/README.md)', () => {
  const text = fixture('python-requirements/requirements.txt');
  const g = requirements(text);

  it('lists every pin with its hashes, edges and direct pins from the `# via` annotations', () => {
    expect(g.components).toHaveLength(8);
    expect(get(g, 'pkg:pypi/setuptools@65.5.0')).toMatchObject({
      direct: true,
      hashes: [SETUPTOOLS],
      scope: 'runtime',
    });
    expect(g.components.filter((c) => c.direct).map((c) => c.name)).toEqual(['flask', 'setuptools']);
    // `markupsafe # via flask, jinja2, werkzeug`: three parents, read from the multi-line form.
    expect(g.components.filter((c) => c.dependsOn.includes('pkg:pypi/markupsafe@3.0.3')).map((c) => c.name)).toEqual([
      'flask',
      'jinja2',
      'werkzeug',
    ]);
  });

  it('has poetry’s graph of the runtime packages, less the Windows-only colorama', () => {
    const strip = (ref: string) => ref.replace(INDEX, '');
    const fromPoetry = poetry('python-poetry-1.3').components.filter(
      (c) => c.scope === 'runtime' && c.name !== 'colorama',
    );
    expect(g.components.map((c) => [c.ref, c.hashes, c.dependsOn])).toEqual(
      fromPoetry.map((c) => [strip(c.ref), c.hashes, c.dependsOn.map(strip).filter((d) => !d.includes('colorama'))]),
    );
  });

  it('refuses an unpinned requirement, saying where and that the SBOM would not be exact', () => {
    const err = thrown(() => requirements(`${text}requests>=2.31 \\\n    --hash=sha256:${'a'.repeat(64)}\nidna\n`));
    const line = text.split('\n').length;
    expect(err.code).toBe('KILN_LOCKFILE_INVALID');
    expect(err.message).toContain(
      `requirements.txt:${line}: requests is pinned to ">=2.31", not one version (==): the SBOM would not be exact`,
    );
    expect(err.message).toContain(`requirements.txt:${line + 2}: idna is pinned to no version`);
    expect(err.hint).toContain('pip-compile --generate-hashes');
  });

  it('reads hand-written forms: no annotations, `--hash sha256:` with a space, markers, URLs, editable project', () => {
    const hand = `-i https://pypi.org/simple\n-e .\nsix==1.16.0 --hash sha256:${'b'.repeat(64)}  # a comment\nnumpy==1.24.4 ; python_version < "3.9"\nnumpy==1.26.4 ; python_version >= "3.9"\npip @ https://example.com/pip-24.0-py3-none-any.whl --hash=sha256:${'c'.repeat(64)}\n`;
    const h = requirements(hand);
    expect(h.components.map((c) => [c.ref, c.direct, c.hashes.length])).toEqual([
      ['pkg:pypi/numpy@1.24.4', true, 0],
      ['pkg:pypi/numpy@1.26.4', true, 0],
      ['pkg:pypi/pip?download_url=https://example.com/pip-24.0-py3-none-any.whl', true, 1],
      ['pkg:pypi/six@1.16.0', true, 1],
    ]);
    expect(thrown(() => requirements('six==1.16.0\nsix==1.15.0\n')).message).toContain(
      'requirements.txt:2: six is given again (as 1.16.0 at requirements.txt:1)',
    );
    expect(thrown(() => requirements(`six==1.16.0 --hash=sha256:${'b'.repeat(63)}\n`)).message).toContain(
      'must have 64 hex digits',
    );
    expect(thrown(() => requirements('-e git+https://github.com/x/y#egg=y\n')).message).toContain(
      'editable "git+https://github.com/x/y#egg=y" is not pinned',
    );
    expect(thrown(() => requirements('--frobnicate\n')).message).toContain(
      'requirements.txt:1: unknown option "--frobnicate"',
    );
  });

  it('follows `-r` includes within the project and refuses cycles, escapes and missing files', () => {
    const main = '-r base.txt\nsix==1.16.0\n';
    expect(requirementIncludes(main, 'requirements.txt')).toEqual(['base.txt']);
    expect(requirementIncludes('--requirement=sub/dev.txt', 'reqs/requirements.txt')).toEqual(['reqs/sub/dev.txt']);
    expect(requirements(main, { 'base.txt': 'idna==3.7\n' }).components.map((c) => c.ref)).toEqual([
      'pkg:pypi/idna@3.7',
      'pkg:pypi/six@1.16.0',
    ]);
    const err = thrown(() =>
      requirements('-r base.txt\n-r ../outside.txt\n-r missing.txt\n', { 'base.txt': '-r requirements.txt\n' }),
    );
    expect(err.message).toContain('base.txt:1: includes "requirements.txt", which includes base.txt (a cycle)');
    expect(err.message).toContain('requirements.txt:2: includes "../outside.txt", which is outside the project');
    expect(err.message).toContain(
      'requirements.txt:3: includes "missing.txt", which Kiln was not given (is it committed?)',
    );
  });
});

describe('markers evaluated for the build platform (pythonEnvironment)', () => {
  const LINUX = pythonEnvironment({ os: 'linux', cpu: 'x64', libc: 'glibc' });
  const WINDOWS = pythonEnvironment({ os: 'win32', cpu: 'x64' });
  const MAC_ARM = pythonEnvironment({ os: 'darwin', cpu: 'arm64' });
  const names = (g: ComponentGraph) => g.components.map((c) => c.name);
  const COLORAMA = `pkg:pypi/colorama@0.4.6${INDEX}`;
  const CLICK = `pkg:pypi/click@8.4.0${INDEX}`;

  it('installedPythonGraph: what only false edges or false packages reach is left out; loose ends are kept', () => {
    const edge = (to: string, when: MarkerTruth = true) => ({ to, when });
    const packages = new Map<string, MarkerTruth>(
      [...'acdfghwxyz'].map((p) => [p, p !== 'h'] as [string, MarkerTruth]),
    );
    const edges = new Map([
      ['a', [edge('c', false), edge('d', 'unknown'), edge('h')]],
      ['w', [edge('x')]],
      ['f', [edge('g', false)]],
      ['y', [edge('z')]],
      ['z', [edge('y')]], // a cycle nothing reaches: listed, so kept
    ]);
    const g = installedPythonGraph(packages, edges, { main: [edge('a')], optional: [], dev: [edge('w', false)] });
    expect([...g.leftOut].sort()).toEqual(['c', 'g', 'h', 'w', 'x']);
    expect(g.edges.get('a')).toEqual(['d']);
    expect(g.starts).toEqual({ main: ['a'], optional: [], dev: [] });
  });

  describe('poetry.lock', () => {
    const lock = (dir: string, environment?: MarkerEnvironment, withPyproject = true) =>
      readPoetryLockfile(fixture(`${dir}/poetry.lock`), 'poetry.lock', {
        ...(withPyproject ? { pyproject: pyproject(dir) } : {}),
        ...(environment ? { environment } : {}),
      });

    it('drops click’s Windows-only colorama edge on linux-x86_64, and colorama with it', () => {
      // python-poetry-1.3: `colorama = {version = "*", markers = "platform_system == \"Windows\""}` under click.
      const g = lock('python-poetry-1.3', LINUX);
      expect(names(g)).not.toContain('colorama');
      expect(g.components).toHaveLength(9);
      expect(get(g, CLICK).dependsOn).toEqual([]);
      expect(lock('python-poetry-1.3', WINDOWS).components).toEqual(lock('python-poetry-1.3').components);
      expect(get(lock('python-poetry-1.3', WINDOWS), CLICK).dependsOn).toEqual([COLORAMA]);
    });

    it('does not mistake the package it left out for a direct one when there is no pyproject.toml', () => {
      const g = lock('python-poetry-1.3', LINUX, false);
      expect(names(g)).not.toContain('colorama');
      expect(g.components.filter((c) => c.direct).map((c) => c.name)).toEqual(['flask', 'setuptools', 'wheel']);
    });

    it('reads Poetry 2’s package `markers` (and 1.1’s layout) into the same linux graph', () => {
      expect(fixture('python-poetry-2/poetry.lock')).toContain('markers = "platform_system == \\"Windows\\""');
      const linux = lock('python-poetry-1.3', LINUX);
      expect(lock('python-poetry-2', LINUX).components).toEqual(linux.components);
      expect(lock('python-poetry-1.1', LINUX).components).toEqual(linux.components);
      const bare = fixture('python-poetry-2/poetry.lock').replace(/^colorama = .*\n/m, ''); // only the package marker
      const g = readPoetryLockfile(bare, 'poetry.lock', {
        pyproject: pyproject('python-poetry-2'),
        environment: LINUX,
      });
      expect(names(g)).not.toContain('colorama');
    });

    it('reads per-group markers and lists of constraints, keeping what turns on the Python version', () => {
      // Shaped as Poetry 2.x writes them: cffi's `markers = {main = …, dev = …}` (from a public Poetry 2 lockfile),
      // and numpy as one dependency with two constraints under their own markers (the second made Windows-only).
      const text = `[[package]]
name = "app-lib"
version = "1.0.0"
optional = false
python-versions = ">=3.9"
groups = ["main"]
files = []

[package.dependencies]
cffi = {version = ">=1.12", markers = "platform_python_implementation != \\"PyPy\\""}
numpy = [
    {version = ">=1.22,<2", markers = "python_version < \\"3.10\\""},
    {version = ">=2", markers = "python_version >= \\"3.10\\" and sys_platform == \\"win32\\""},
]

[[package]]
name = "cffi"
version = "2.0.0"
optional = false
python-versions = ">=3.9"
groups = ["main", "dev"]
markers = {main = "platform_python_implementation != \\"PyPy\\"", dev = "platform_python_implementation != \\"PyPy\\" or os_name == \\"nt\\""}
files = []

[[package]]
name = "dev-tool"
version = "0.1.0"
optional = false
python-versions = ">=3.9"
groups = ["dev"]
files = []

[package.dependencies]
cffi = ">=1.12"

[[package]]
name = "numpy"
version = "2.2.6"
optional = false
python-versions = ">=3.10"
groups = ["main"]
files = []

[metadata]
lock-version = "2.1"
python-versions = ">=3.9"
content-hash = "x"
`;
      const read = (environment: MarkerEnvironment) => names(readPoetryLockfile(text, 'poetry.lock', { environment }));
      expect(read(LINUX)).toEqual(['app-lib', 'cffi', 'dev-tool', 'numpy']);
      const pypy = { ...LINUX, implementation_name: 'pypy', platform_python_implementation: 'PyPy' };
      expect(read(pypy)).toEqual(['app-lib', 'dev-tool', 'numpy']); // false for both groups, though dev-tool needs it
      expect(read({ ...pypy, os_name: 'nt' })).toEqual(['app-lib', 'cffi', 'dev-tool', 'numpy']); // dev's marker holds
      expect(read({ ...LINUX, python_version: '3.9' })).toContain('numpy'); // the first constraint holds
      expect(read({ ...LINUX, python_version: '3.12' })).not.toContain('numpy'); // neither does
    });

    it('refuses a marker that is not one, naming the line', () => {
      const text = fixture('python-poetry-1.3/poetry.lock').replace(
        'markers = "platform_system == \\"Windows\\""',
        'markers = "platform_system = \\"Windows\\""',
      );
      const line = text.split('\n').findIndex((l) => l.startsWith('colorama = ')) + 1;
      expect(thrown(() => readPoetryLockfile(text, 'poetry.lock', { environment: LINUX })).message).toContain(
        `poetry.lock:${line}: package "click": unexpected "=" at column 17 of marker "platform_system = "Windows""`,
      );
    });
  });

  describe('uv.lock', () => {
    const uvLock = (environment?: MarkerEnvironment) =>
      readUvLockfile(fixture('python-uv/uv.lock'), 'uv.lock', environment ? { environment } : {});

    it('drops the colorama edge (`marker = "platform_system == \'Windows\'"`) and colorama on linux-x86_64', () => {
      const g = uvLock(LINUX);
      expect(names(g)).not.toContain('colorama');
      expect(get(g, CLICK).dependsOn).toEqual([]);
      expect(g.components).toEqual(
        readPoetryLockfile(fixture('python-poetry-1.3/poetry.lock'), 'poetry.lock', {
          pyproject: pyproject('python-poetry-1.3'),
          environment: LINUX,
        }).components,
      );
      expect(uvLock(WINDOWS).components).toEqual(uvLock().components);
      expect(names(uvLock(WINDOWS))).toContain('colorama');
    });

    // keyring's own requirements (jaraco/keyring pyproject.toml): pywin32-ctypes on win32, SecretStorage and jeepney
    // on linux, importlib_metadata below Python 3.12; SecretStorage needs cryptography and jeepney, cryptography cffi
    // (not on PyPy), cffi pycparser. Written as uv writes markers (single quotes, python_full_version).
    const KEYRING = `version = 1
revision = 3
requires-python = ">=3.9"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "keyring" },
]

[[package]]
name = "cffi"
version = "1.17.1"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "pycparser" },
]

[[package]]
name = "cryptography"
version = "45.0.5"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "cffi", marker = "platform_python_implementation != 'PyPy'" },
]

[[package]]
name = "importlib-metadata"
version = "8.7.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "zipp" },
]

[[package]]
name = "jeepney"
version = "0.9.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "keyring"
version = "25.6.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "importlib-metadata", marker = "python_full_version < '3.12'" },
    { name = "jeepney", marker = "sys_platform == 'linux'" },
    { name = "pywin32-ctypes", marker = "sys_platform == 'win32'" },
    { name = "secretstorage", marker = "sys_platform == 'linux'" },
]

[[package]]
name = "pycparser"
version = "2.22"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pywin32-ctypes"
version = "0.2.3"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "secretstorage"
version = "3.3.3"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "cryptography" },
    { name = "jeepney" },
]

[[package]]
name = "zipp"
version = "3.23.0"
source = { registry = "https://pypi.org/simple" }
`;

    it('leaves out what only a left-out package needs, and keeps what turns on the Python version', () => {
      const read = (environment?: MarkerEnvironment) =>
        names(readUvLockfile(KEYRING, 'uv.lock', environment ? { environment } : {}));
      const common = ['importlib-metadata', 'keyring', 'zipp'];
      expect(read(LINUX)).toEqual([...common, 'cffi', 'cryptography', 'jeepney', 'pycparser', 'secretstorage'].sort());
      expect(read(WINDOWS)).toEqual([...common, 'pywin32-ctypes'].sort());
      expect(read(MAC_ARM)).toEqual(common);
      expect(read({ ...MAC_ARM, python_full_version: '3.12.4' })).toEqual(['keyring']);
      expect(read()).toHaveLength(9); // no environment: every platform marker is unknown, all but the project kept
      const g = readUvLockfile(KEYRING, 'uv.lock', { environment: WINDOWS });
      expect(get(g, 'pkg:pypi/keyring@25.6.0').dependsOn).toEqual([
        'pkg:pypi/importlib-metadata@8.7.0',
        'pkg:pypi/pywin32-ctypes@0.2.3',
      ]);
    });

    it('keeps one of two versions locked for different platforms by `resolution-markers`', () => {
      // The shape uv writes when a dependency resolves differently per platform: one [[package]] per fork.
      const text = `version = 1
revision = 3
requires-python = ">=3.10"
resolution-markers = [
    "sys_platform == 'darwin'",
    "sys_platform != 'darwin'",
]

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "torch", version = "2.7.1", source = { registry = "https://pypi.org/simple" }, marker = "sys_platform == 'darwin'" },
    { name = "torch", version = "2.7.1+cpu", source = { registry = "https://download.pytorch.org/whl/cpu" }, marker = "sys_platform != 'darwin'" },
]

[[package]]
name = "torch"
version = "2.7.1"
source = { registry = "https://pypi.org/simple" }
resolution-markers = [
    "sys_platform == 'darwin'",
]

[[package]]
name = "torch"
version = "2.7.1+cpu"
source = { registry = "https://download.pytorch.org/whl/cpu" }
resolution-markers = [
    "sys_platform != 'darwin'",
]
`;
      const refs = (environment: MarkerEnvironment) =>
        readUvLockfile(text, 'uv.lock', { environment }).components.map((c) => c.ref);
      expect(refs(LINUX)).toEqual(['pkg:pypi/torch@2.7.1%2Bcpu?repository_url=https://download.pytorch.org/whl/cpu']);
      expect(refs(MAC_ARM)).toEqual(['pkg:pypi/torch@2.7.1']);
      // A fork's own resolution-markers decide even without an edge marker.
      const unmarkedEdges = text.replace(/, marker = "sys_platform [!=]= 'darwin'"/g, '');
      expect(readUvLockfile(unmarkedEdges, 'uv.lock', { environment: LINUX }).components).toHaveLength(1);
      expect(readUvLockfile(text, 'uv.lock').components).toHaveLength(2);
    });

    it('refuses a marker that is not one, naming its line', () => {
      const text = KEYRING.replace('marker = "sys_platform == \'win32\'"', 'marker = "sys_platform == \'win32"');
      const line = text.split('\n').findIndex((l) => l.includes('pywin32-ctypes", marker')) + 1;
      expect(thrown(() => readUvLockfile(text, 'uv.lock', { environment: LINUX })).message).toContain(
        `uv.lock:${line}: package "keyring": an unterminated string at column 17 of marker "sys_platform == 'win32"`,
      );
    });
  });

  describe('requirements.txt', () => {
    // As `uv pip compile --universal --generate-hashes` writes markers; colorama's hashes are PyPI's.
    const text = `click==8.1.7
    # via -r requirements.in
colorama==0.4.6 ; sys_platform == 'win32' \\
    --hash=sha256:08695f5cb7ed6e0531a20572697297273c47b8cae5a63ffc6d6ed5c201be6e44 \\
    --hash=sha256:4f1d9991f5acc0ca119f9d443620b77f9d6b33703e51011c16baf57afb285fc6
    # via click
importlib-metadata==8.7.0 ; python_full_version < '3.10'
    # via -r requirements.in
pysocks==1.7.1 ; extra == 'socks'
    # via -r requirements.in
pywin32==306 ; platform_system == "Windows"
    # via -r requirements.in
`;
    const read = (environment?: MarkerEnvironment, body = text) =>
      readRequirementsTxt(body, 'requirements.txt', environment ? { environment } : {});

    it('leaves out the pins whose markers are false on linux-x86_64, as pip ignores them', () => {
      expect(names(read(LINUX))).toEqual(['click', 'importlib-metadata']);
      expect(get(read(LINUX), 'pkg:pypi/click@8.1.7').dependsOn).toEqual([]);
      expect(names(read(WINDOWS))).toEqual(['click', 'colorama', 'importlib-metadata', 'pywin32']);
      expect(get(read(WINDOWS), 'pkg:pypi/click@8.1.7').dependsOn).toEqual(['pkg:pypi/colorama@0.4.6']);
      // pip evaluates a requirement's marker with extra = "": pysocks is never installed from this file.
      expect(names(read())).toEqual(['click', 'colorama', 'importlib-metadata', 'pywin32']);
    });

    it('refuses the same name twice when both pins hold, as pip does, and a broken marker', () => {
      const twice = 'six==1.16.0 ; sys_platform == "linux"\nsix==1.15.0 ; os_name == "posix"\n';
      expect(thrown(() => read(LINUX, twice)).message).toContain(
        'requirements.txt:2: six is given again (as 1.16.0 at requirements.txt:1)',
      );
      expect(names(read(undefined, twice))).toEqual(['six', 'six']); // may be told apart: both kept
      expect(names(read(WINDOWS, twice))).toEqual([]);
      expect(thrown(() => read(LINUX, 'six==1.16.0 ; sys_platform = "linux"\n')).message).toContain(
        'requirements.txt:1: six: unexpected "=" at column 14 of marker "sys_platform = "linux""',
      );
    });

    it('gives poetry’s runtime graph on linux-x86_64 for the pip-compile fixture', () => {
      const strip = (ref: string) => ref.replace(INDEX, '');
      const linux = readPoetryLockfile(fixture('python-poetry-1.3/poetry.lock'), 'poetry.lock', {
        pyproject: pyproject('python-poetry-1.3'),
        environment: LINUX,
      }).components.filter((c) => c.scope === 'runtime');
      const g = readRequirementsTxt(fixture('python-requirements/requirements.txt'), 'requirements.txt', {
        environment: LINUX,
      });
      expect(g.components.map((c) => [c.ref, c.dependsOn])).toEqual(
        linux.map((c) => [strip(c.ref), c.dependsOn.map(strip)]),
      );
    });
  });
});

describe('makeSbom with Python lockfiles', () => {
  it('reads poetry.lock with pyproject.toml, and requirements.txt with what it includes', async () => {
    const dir = tempDir('kiln-python-sbom-');
    writeFileSync(join(dir, 'poetry.lock'), fixture('python-poetry-1.3/poetry.lock'));
    writeFileSync(join(dir, 'pyproject.toml'), fixture('python-poetry-1.3/pyproject.toml'));
    writeFileSync(join(dir, 'requirements.txt'), '-r extra.txt\n');
    writeFileSync(join(dir, 'extra.txt'), 'six==1.16.0\n');
    const view = { projectDir: dir, readFile: (p: string) => fsp.readFile(p) } as unknown as SourceView; // the two members makeSbom uses
    const source = { commit: 'c'.repeat(40), sourceDateEpoch: 1700000000, subdir: '' } as never;
    const sbom = await makeSbom({ view, source, config: { name: 'py-app' }, kilnVersion: '0.0.0-test' });
    expect(sbom.warnings).toEqual([]);
    expect(sbom.lockfiles.map((l) => l.path).sort()).toEqual([
      'extra.txt',
      'poetry.lock',
      'pyproject.toml',
      'requirements.txt',
    ]);
    const bom = sbom.bom as {
      components: { purl: string; scope?: string }[];
      metadata: { component: { name: string } };
    };
    expect(bom.metadata.component.name).toBe('kiln-fixture-python');
    expect(bom.components.map((c) => c.purl)).toEqual(
      expect.arrayContaining(['pkg:pypi/six@1.16.0', `pkg:pypi/flask@3.1.3${INDEX}`]),
    );
    expect(bom.components.find((c) => c.purl === `pkg:pypi/wheel@0.40.0${INDEX}`)?.scope).toBe('excluded');
    // Read for this host: the Windows-only colorama is in the SBOM only of a build on Windows.
    const windows = pythonEnvironment(hostNpmPlatform()).platform_system === 'Windows';
    expect(bom.components.some((c) => c.purl.startsWith('pkg:pypi/colorama@'))).toBe(windows);
  });
});
