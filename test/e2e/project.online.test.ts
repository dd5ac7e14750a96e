import { cpSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kiln, makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

// The online tier: this test's build has a network step that fetches from the public npm registry.
describe('the example project, with its dependencies from the npm registry', () => {
  it('builds the example project (npm ci from its lockfile, compile, unit tests) into a verified artifact', () => {
    const root = tempDir();
    const repo = join(root, 'example');
    cpSync(resolve(import.meta.dirname, '../../examples/hello-node'), repo, {
      recursive: true,
      filter: (src) => !/node_modules|kiln-out|\/build$|\/dist$/.test(src),
    });
    makeRepo(repo, {});
    const home = join(root, 'home');
    const r = kiln(['build', '--json'], { cwd: repo, home });
    expect(r.stderr).toContain('step test succeeded');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    const sbom = JSON.parse(readFileSync(out.artifacts[0].sbom, 'utf8'));
    const purls = sbom.components.map((c: { purl: string }) => c.purl);
    expect(purls).toEqual(
      expect.arrayContaining(['pkg:npm/debug@4.4.3', 'pkg:npm/ms@2.1.3', 'pkg:npm/typescript@5.9.3']),
    );
    const v = kiln(['verify', out.artifacts[0].path, '--key', join(home, 'keys', 'default.pub')], { cwd: repo, home });
    expect(v.status).toBe(0);
    expect(v.stdout).toContain('verified:');
  });
});
