import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, kiln, makeRepo, writeFiles } from '../helpers/repo.js';
import { miniRootfs } from '../helpers/rootfs.js';
import { tempDir } from '../helpers/tmp.js';

// The rootfs has only /bin/sh (dash) and its libraries: the step uses shell built-ins, and proves where it ran.
const yaml = (rootfs: string, digest?: string) => `name: onroot
sandbox:
  rootfs: ${rootfs}
${digest ? `  digest: ${digest}\n` : ''}steps:
  probe:
    run: read -r line < /etc/os-release; echo "$line" > os.txt
    outputs: [os.txt]
artifacts:
  - name: os
    from: probe
    path: os.txt
    format: file
`;

interface Built {
  artifacts: { path: string; bundle: string }[];
  steps: { cache: string; explanation: string[] }[];
}

describe('a builder rootfs from kiln.yaml', () => {
  it('runs the steps on it, pins it by digest, and keys the cache on it', () => {
    const root = tempDir();
    const rootfs = miniRootfs();
    const repo = join(root, 'repo');
    makeRepo(repo, { 'kiln.yaml': yaml(rootfs), '.gitignore': 'kiln-out/\n' });
    const home = join(root, 'home');
    const first = kiln(['build', '--json'], { cwd: repo, home });
    expect(first.status, first.stderr).toBe(0);
    const built = JSON.parse(first.stdout) as Built;
    expect(readFileSync(built.artifacts[0]?.path ?? '', 'utf8')).toBe('ID=kiln-test\n'); // not the host's /etc
    const digest = first.stderr.match(/builder rootfs \S+ is (sha256:[0-9a-f]{64})/)?.[1];
    expect(digest).toBeDefined();
    const bundle = JSON.parse(readFileSync(built.artifacts[0]?.bundle ?? '', 'utf8'));
    const provenance = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    const deps = provenance.predicate.buildDefinition.resolvedDependencies as { name?: string; digest: unknown }[];
    const hex = digest?.slice('sha256:'.length) ?? '';
    // Its version is its labelled digest, never `unknown`.
    expect(deps).toContainEqual({ uri: `pkg:generic/rootfs@sha256%3A${hex.slice(0, 16)}`, digest: { sha256: hex } });

    // A wrong pin stops the build before anything runs, naming both digests.
    const wrong = `sha256:${'0'.repeat(64)}`;
    writeFiles(repo, { 'kiln.yaml': yaml(rootfs, wrong) });
    git(repo, ['commit', '-qam', 'wrong pin']);
    const refused = kiln(['build'], { cwd: repo, home });
    expect(refused.status).toBe(4);
    expect(refused.stderr).toContain(`has digest ${digest}, but kiln.yaml pins ${wrong}`);

    // The right pin builds; a changed rootfs is a different builder: the step misses and says why.
    writeFiles(repo, { 'kiln.yaml': yaml(rootfs, digest) });
    git(repo, ['commit', '-qam', 'right pin']);
    expect(kiln(['build'], { cwd: repo, home }).status).toBe(0);
    writeFiles(repo, { 'kiln.yaml': yaml(rootfs) });
    git(repo, ['commit', '-qam', 'no pin']);
    writeFileSync(join(rootfs, 'etc', 'os-release'), 'ID=kiln-test-2\n');
    const changed = kiln(['build', '--json', '--explain'], { cwd: repo, home });
    expect(changed.status, changed.stderr).toBe(0);
    const step = (JSON.parse(changed.stdout) as Built).steps[0];
    expect(step?.cache).toBe('miss');
    expect(step?.explanation.join(' ')).toMatch(/builder/);

    // The host runner cannot honour a rootfs.
    const host = kiln(['build', '--runner', 'host'], { cwd: repo, home });
    expect(host.status).toBe(2);
    expect(host.stderr).toContain('sandbox.rootfs needs the bubblewrap runner');

    // A rootfs holding the Kiln home would show the steps its keys, cache and store.
    const inside = kiln(['build'], { cwd: repo, home: join(rootfs, 'home') });
    expect(inside.status).toBe(4);
    expect(inside.stderr).toContain('contains the Kiln home');
  });

  it('puts the host tools kiln.yaml names into the builder digest', () => {
    const root = tempDir();
    const bin = join(root, 'bin');
    mkdirSync(bin);
    const tool = join(bin, 'kiln-test-tool');
    writeFileSync(tool, '#!/bin/sh\necho v1\n');
    chmodSync(tool, 0o755);
    const repo = join(root, 'repo');
    const config = (tools: string) => `name: tooled
${tools}steps:
  gen:
    run: kiln-test-tool > out.txt
    outputs: [out.txt]
artifacts:
  - name: out
    from: gen
    path: out.txt
    format: file
`;
    makeRepo(repo, { 'kiln.yaml': config('sandbox:\n  tools: [kiln-test-tool]\n'), '.gitignore': 'kiln-out/\n' });
    const home = join(root, 'home');
    // The host runner, so the steps see this PATH (the sandbox has its own fixed PATH).
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const build = () => {
      const r = kiln(['build', '--json', '--force', '--explain', '--runner', 'host'], { cwd: repo, home, env });
      if (r.status !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout) as Built;
    };
    expect(build().steps[0]?.cache).toBe('miss');
    expect(build().steps[0]?.cache).toBe('hit');
    writeFileSync(tool, '#!/bin/sh\necho v2\n');
    const changed = build().steps[0];
    expect(changed?.cache).toBe('miss');
    expect(changed?.explanation.join(' ')).toMatch(/builder/);

    const wrong = config(`sandbox:\n  digest: sha256:${'1'.repeat(64)}\n`);
    writeFiles(repo, { 'kiln.yaml': wrong });
    const check = kiln(['config', 'check'], { cwd: repo, home });
    expect(check.status).toBe(2);
    expect(check.stderr).toContain('"digest" pins a builder rootfs: give "rootfs" too');
  });
});
