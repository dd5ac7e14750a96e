import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/core/errors.js';
import { globWorkspaceDirs, readWorkspaces } from '../../../src/plan/workspaces/read.js';
import { tempDir } from '../../helpers/tmp.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/workspaces');

/** Writes a tree of files (path → content; objects become JSON) into a fresh temp dir. */
function tree(files: Record<string, unknown>): string {
  const root = tempDir('kiln-ws-');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return root;
}

async function rejection(promise: Promise<unknown>): Promise<KilnError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(KilnError);
    return err as KilnError;
  }
  throw new Error('expected a rejection');
}

describe('readWorkspaces', () => {
  it('finds npm workspaces with exclusions, skips dirs without package.json and the root', async () => {
    const packages = await readWorkspaces(join(FIXTURES, 'npm'));
    expect(packages.map((p) => [p.name, p.dir, p.dependsOn])).toEqual([
      ['@acme/core', 'packages/core', []],
      ['@acme/types', 'packages/types', ['@acme/core']],
      ['@acme/ui', 'packages/ui', ['@acme/core', '@acme/utils']], // peer dep counted, self and externals not
      ['@acme/utils', 'packages/utils', ['@acme/core']],
      ['web', 'apps/web', ['@acme/types', '@acme/ui', '@acme/utils']], // optionalDependencies too
    ]);
    expect(packages[0]).toEqual({
      name: '@acme/core',
      dir: 'packages/core',
      version: '1.2.0',
      scripts: {
        prebuild: 'node gen.mjs',
        build: 'tsc -p . # compile',
        postbuild: 'echo built $npm_package_name',
        test: 'vitest run',
      },
      dependsOn: [],
    });
    expect(packages.find((p) => p.name === 'web')?.version).toBe('');
    expect(Object.isFrozen(packages)).toBe(true);
    expect(Object.isFrozen(packages[0]?.scripts)).toBe(true);
  });

  it('prefers pnpm-workspace.yaml: `**`, `workspace:` specs, `!` exclusions, no dot-dirs', async () => {
    const packages = await readWorkspaces(join(FIXTURES, 'pnpm'));
    expect(packages.map((p) => [p.name, p.dir, p.dependsOn])).toEqual([
      ['base', 'packages/base', []],
      ['cli', 'tools/cli', ['parser', 'printer']],
      ['parser', 'packages/nested/parser', ['base']],
      ['printer', 'packages/nested/printer', ['base', 'parser']],
    ]);
  });

  it('reads yarn `workspaces.packages` with brace alternatives', async () => {
    const packages = await readWorkspaces(join(FIXTURES, 'yarn'));
    expect(packages.map((p) => [p.name, p.dir, p.dependsOn])).toEqual([
      ['app', 'packages/app', ['lib', 'plugin-alpha']],
      ['lib', 'packages/lib', ['shared']],
      ['plugin-alpha', 'plugins/alpha', ['lib']],
      ['plugin-beta', 'plugins/beta', ['shared']],
      ['shared', 'packages/shared', []],
    ]);
  });

  it('returns no packages when the root declares no workspaces', async () => {
    expect(await readWorkspaces(tree({ 'package.json': { name: 'single' } }))).toEqual([]);
  });

  it('names both directories of a duplicate package name, and every other problem with it', async () => {
    const root = tree({
      'package.json': { workspaces: ['packages/*'] },
      'packages/a/package.json': { name: 'same', version: '1.0.0' },
      'packages/b/package.json': { name: 'same', version: '1.0.0' },
      'packages/c/package.json': '{ "name": "c", ',
      'packages/d/package.json': { version: '1.0.0' },
      'packages/e/package.json': { name: 'e', scripts: { build: 42 }, dependencies: ['same'] },
    });
    const err = await rejection(readWorkspaces(root));
    expect(err.code).toBe('KILN_CONFIG_INVALID');
    expect(err.message).toContain('package name "same" is used by both packages/a and packages/b');
    const problems = err.details?.problems as { file: string; message: string }[];
    expect(problems.map((p) => p.file)).toEqual([
      'packages/b/package.json',
      'packages/c/package.json',
      'packages/d/package.json',
      'packages/e/package.json',
      'packages/e/package.json',
    ]);
    expect(err.message).toContain('packages/c/package.json: is not valid JSON');
    expect(err.message).toContain('packages/d/package.json: has no "name"');
    expect(err.message).toContain('"scripts.build" must be a string (found number)');
    expect(err.message).toContain('"dependencies" must be an object of strings');
  });

  it('refuses a dependency cycle and names it with the directories', async () => {
    const root = tree({
      'package.json': { workspaces: ['packages/*'] },
      'packages/a/package.json': { name: 'a', dependencies: { b: '*' } },
      'packages/b/package.json': { name: 'b', devDependencies: { c: 'workspace:*' } },
      'packages/c/package.json': { name: 'c', peerDependencies: { a: '^1' } },
      'packages/d/package.json': { name: 'd', dependencies: { a: '*' } },
    });
    const err = await rejection(readWorkspaces(root));
    expect(err.code).toBe('KILN_CONFIG_INVALID');
    expect(err.message).toBe(
      'workspace packages depend on each other in a cycle: a (packages/a) → b (packages/b) → c (packages/c) → a (packages/a)',
    );
    expect(err.details?.cycle).toEqual(['a', 'b', 'c', 'a']);
  });

  it('rejects malformed workspace declarations', async () => {
    const bad = [
      [{ 'package.json': { workspaces: 'packages/*' } }, /neither a list of patterns/],
      [{ 'package.json': { workspaces: { packages: [1] } } }, /neither a list of patterns/],
      [{ 'package.json': '[]' }, /package.json: must hold a JSON object/],
      [{ 'pnpm-workspace.yaml': 'packages: [a\n' }, /pnpm-workspace.yaml is not valid YAML/],
      [{ 'pnpm-workspace.yaml': 'catalog: {}\n' }, /no "packages:" list/],
      [{ 'package.json': { workspaces: ['../outside/*'] } }, /points outside the project/],
      [{ 'package.json': { workspaces: ['/abs/*'] } }, /points outside the project/],
      [{ 'package.json': { workspaces: ['packages/{a,b'] } }, /unclosed "\{"/],
    ] as const;
    for (const [files, message] of bad) {
      const err = await rejection(readWorkspaces(tree(files)));
      expect(err.code).toBe('KILN_CONFIG_INVALID');
      expect(err.message).toMatch(message);
    }
    const none = await rejection(readWorkspaces(tree({ 'README.md': 'x' })));
    expect(none.code).toBe('KILN_CONFIG_NOT_FOUND');
  });

  it('goes through the readFile seam and turns unreadable files into KILN_IO', async () => {
    const files: Record<string, string> = {
      '/r/package.json': JSON.stringify({ workspaces: ['p/*'] }),
      '/r/p/a/package.json': JSON.stringify({ name: 'a' }),
    };
    const read = async (p: string) => {
      if (p === '/r/p/b/package.json') throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
      const text = files[p];
      if (text === undefined) throw Object.assign(new Error(`no ${p}`), { code: 'ENOENT' });
      return text;
    };
    const glob = async () => ['p/a'];
    expect((await readWorkspaces('/r', read, glob)).map((p) => p.name)).toEqual(['a']);
    const err = await rejection(readWorkspaces('/r', read, async () => ['p/a', 'p/b']));
    expect(err.code).toBe('KILN_IO');
    expect(err.message).toContain('/r/p/b/package.json');
  });
});

describe('globWorkspaceDirs', () => {
  const listing: Record<string, string[]> = {
    '/r': ['apps', 'packages', 'node_modules', '.git'],
    '/r/apps': ['web', '.next', 'node_modules'],
    '/r/apps/web': ['src', 'node_modules'],
    '/r/apps/web/src': [],
    '/r/apps/web/node_modules': ['dep'],
    '/r/packages': ['a', 'b', 'test'],
    '/r/packages/a': ['test'],
    '/r/packages/a/test': [],
    '/r/packages/b': [],
    '/r/packages/test': [],
    '/r/node_modules': ['x'],
  };
  const list = async (dir: string) => listing[dir] ?? [];

  it('matches one segment with `*`, any depth with `**`, never node_modules or dot-dirs', async () => {
    expect(await globWorkspaceDirs('/r', ['packages/*'], list)).toEqual(['packages/a', 'packages/b', 'packages/test']);
    expect(await globWorkspaceDirs('/r', ['apps/**'], list)).toEqual(['apps', 'apps/web', 'apps/web/src']);
    expect(await globWorkspaceDirs('/r', ['./packages/?/', 'apps/web/package.json'], list)).toEqual([
      'apps/web',
      'packages/a',
      'packages/b',
    ]);
    expect(await globWorkspaceDirs('/r', ['apps/.*'], list)).toEqual(['apps/.next']);
  });

  it('applies `!` exclusions wherever they appear in the list', async () => {
    expect(await globWorkspaceDirs('/r', ['!**/test', 'packages/**'], list)).toEqual([
      'packages',
      'packages/a',
      'packages/b',
    ]);
    expect(await globWorkspaceDirs('/r', ['{apps,packages}/*', '!packages/{a,test}'], list)).toEqual([
      'apps/web',
      'packages/b',
    ]);
    expect(await globWorkspaceDirs('/r', ['**'], list)).not.toContain('');
  });
});
