import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNginxCache } from '../helpers/nginx.js';
import { DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { git, kiln, makeRepo, writeFiles } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

interface Step {
  name: string;
  status: string;
  cache: 'hit' | 'miss';
  producedBy: string | null;
  explanation: string[];
}
interface Built {
  buildId: string;
  artifacts: { digest: string; path: string }[];
  cache: { hits: number; misses: number; bytesRestored: number; timeSavedMs: number };
  steps: Step[];
}

/** A build that always runs (--force: the step cache is under test, not the reuse of a whole identical build). */
function build(repo: string, home: string, args: string[] = [], env: Record<string, string> = {}): Built {
  const r = kiln(['build', '--json', '--explain', '--force', ...args], { cwd: repo, home, env });
  if (r.status !== 0) throw new Error(`kiln build failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as Built;
}

const step = (b: Built, name: string) => b.steps.find((s) => s.name === name) as Step;

describe('the content-addressed cache', () => {
  it('replays an unchanged build entirely from the cache, bit for bit, and explains each miss precisely', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    const home = join(root, 'home');
    const first = build(repo, home);
    expect(first.cache).toMatchObject({ hits: 0, misses: 2 });
    expect(step(first, 'compile').explanation).toEqual(['no earlier build of this step is recorded']);
    const second = build(repo, home);
    expect(second.cache.hits).toBe(2);
    expect(second.cache.misses).toBe(0);
    expect(second.cache.timeSavedMs).toBeGreaterThan(0);
    expect(step(second, 'compile')).toMatchObject({ cache: 'hit', producedBy: first.buildId, status: 'cached' });
    expect(second.artifacts[0]?.digest).toBe(first.artifacts[0]?.digest);

    writeFiles(repo, { 'src/util.js': 'export const twice = (x) => x + x;\n' });
    git(repo, ['commit', '-qam', 'change an input'], '2024-05-02T00:00:00Z');
    const third = build(repo, home);
    expect(step(third, 'compile')).toMatchObject({ cache: 'miss', explanation: ['input changed: src/util.js'] });
    expect(step(third, 'test')).toMatchObject({ cache: 'miss', explanation: ['output of step compile changed'] });

    writeFiles(repo, {
      'kiln.yaml': DEMO_KILN_YAML.replace('    outputs: [out]', '    outputs: [out]\n    env: { MODE: fast }'),
    });
    git(repo, ['commit', '-qam', 'env'], '2024-05-03T00:00:00Z');
    expect(step(build(repo, home), 'compile').explanation).toEqual(['env MODE added']);

    writeFiles(repo, { 'src/new.js': 'export {};\n' });
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-qm', 'add'], '2024-05-04T00:00:00Z');
    expect(step(build(repo, home), 'compile').explanation).toEqual(['input added: src/new.js']);

    // The host runner is another builder: its entries are not the sandbox's.
    const host = build(repo, home, ['--runner', 'host']);
    expect(step(host, 'compile').explanation).toEqual([expect.stringMatching(/^builder \(toolchain\) changed/)]);
  });

  it('is not fooled by a corrupted blob or a tampered action entry: it rebuilds the right output', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    const home = join(root, 'home');
    const first = build(repo, home);
    // Rot the file blobs but not the tree manifests: the entries still look like hits until the blobs are read.
    const casDir = join(home, 'cache', 'cas');
    for (const sub of readdirSync(casDir)) {
      for (const blob of readdirSync(join(casDir, sub))) {
        const path = join(casDir, sub, blob);
        const bytes = readFileSync(path);
        if (bytes.toString('utf8').startsWith('{"entries"')) continue;
        bytes[0] = (bytes[0] ?? 0) ^ 0xff;
        writeFileSync(path, bytes);
      }
    }
    const afterBlobs = kiln(['build', '--json', '--force'], { cwd: repo, home });
    expect(afterBlobs.status).toBe(0);
    expect(JSON.parse(afterBlobs.stdout).artifacts[0].digest).toBe(first.artifacts[0]?.digest);
    expect(afterBlobs.stderr).toMatch(/corrupt/i);

    // An action entry re-signed by a key nobody trusts, and one moved to another key, are both ignored.
    const acDir = join(home, 'cache', 'ac');
    const entries = readdirSync(acDir);
    for (const key of entries) {
      const env = JSON.parse(readFileSync(join(acDir, key), 'utf8'));
      env.signatures[0].keyid = 'not-a-trusted-key';
      writeFileSync(join(acDir, key), JSON.stringify(env));
    }
    const afterEntries = kiln(['build', '--json', '--force'], { cwd: repo, home });
    expect(afterEntries.status).toBe(0);
    const out = JSON.parse(afterEntries.stdout) as Built;
    expect(out.cache.hits).toBe(0);
    expect(out.artifacts[0]?.digest).toBe(first.artifacts[0]?.digest);
    expect(afterEntries.stderr).toMatch(/ignored the local cache entry .*untrusted-key/);
  });

  it('reads but never adds to the local cache with local:r, and leaves it alone with local:off', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    makeRepo(repo, demoProject());
    const home = join(root, 'home');
    const first = build(repo, home);
    const cacheFiles = () => readdirSync(join(home, 'cache'), { recursive: true }).map(String).sort();
    const filled = cacheFiles();
    expect(filled.length).toBeGreaterThan(4);

    const readOnly = build(repo, home, ['--cache', 'local:r,remote:off']);
    expect(readOnly.cache).toMatchObject({ hits: 2, misses: 0 });
    writeFiles(repo, { 'src/util.js': 'export const twice = (x) => x + x;\n' });
    git(repo, ['commit', '-qam', 'change an input'], '2024-05-02T00:00:00Z');
    const changed = build(repo, home, ['--cache', 'local:r,remote:off']);
    expect(changed.cache).toMatchObject({ hits: 0, misses: 2 });
    expect(changed.artifacts[0]?.digest).not.toBe(first.artifacts[0]?.digest);
    expect(cacheFiles()).toEqual(filled); // the new outputs went to a scratch cache, not this one

    const off = build(repo, home, ['--cache', 'local:off,remote:off']);
    expect(off.cache).toMatchObject({ hits: 0, misses: 2 });
    expect(off.artifacts[0]?.digest).toBe(changed.artifacts[0]?.digest);
    expect(cacheFiles()).toEqual(filled);
    expect(build(repo, home).cache).toMatchObject({ hits: 0, misses: 2 }); // nothing of the last two was kept
  });

  it('runs a cached step again when a later step finds its outputs corrupt, instead of failing', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const yaml = (extra: string) => `name: demo
steps:
  gen:
    run: mkdir -p gen && echo generated-data > gen/file
    outputs: [gen]
  pack:
    run: mkdir -p out && cp gen/file out/ ${extra}
    needs: [gen]
    outputs: [out]
artifacts:
  - name: demo
    from: pack
    path: out
`;
    makeRepo(repo, demoProject({ 'kiln.yaml': yaml('') }));
    const home = join(root, 'home');
    build(repo, home);
    // Rot gen's output blob; then change only pack, so gen is a (stat-checked) hit and pack must restore it.
    const casDir = join(home, 'cache', 'cas');
    for (const sub of readdirSync(casDir)) {
      for (const blob of readdirSync(join(casDir, sub))) {
        const path = join(casDir, sub, blob);
        if (readFileSync(path, 'utf8') === 'generated-data\n') writeFileSync(path, 'generated-dXta\n');
      }
    }
    writeFiles(repo, { 'kiln.yaml': yaml('&& true') });
    git(repo, ['commit', '-qam', 'change pack'], '2024-05-02T00:00:00Z');
    const r = kiln(['build', '--json'], { cwd: repo, home });
    expect(r.stderr).toMatch(/cached outputs of step gen are corrupt/);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Built;
    expect(step(out, 'gen').cache).toBe('miss');
    expect(execFileSync('tar', ['-xzOf', out.artifacts[0]?.path ?? '', 'file'], { encoding: 'utf8' })).toBe(
      'generated-data\n',
    );
  });

  it('shares a remote cache (nginx, WebDAV) between two Kiln homes, and builds fine when it is down', async () => {
    const nginx = await startNginxCache();
    try {
      const root = tempDir();
      const repo = join(root, 'repo');
      makeRepo(repo, demoProject());
      const key = join(root, 'ci');
      expect(kiln(['keys', 'generate', '--out', key], { cwd: root, home: join(root, 'h0') }).status).toBe(0);
      const env = { KILN_REMOTE_CACHE: nginx.url };
      const a = build(repo, join(root, 'home-a'), ['--key', `${key}.key`], env);
      expect(a.cache.misses).toBe(2);
      expect(nginx.stored().length).toBeGreaterThan(0);
      const b = build(repo, join(root, 'home-b'), ['--key', `${key}.key`], env);
      expect(b.cache).toMatchObject({ hits: 2, misses: 0 });
      expect(b.artifacts[0]?.digest).toBe(a.artifacts[0]?.digest);
      // A remote that serves wrong bytes (every stored blob flipped) costs a rebuild, never a wrong artifact.
      for (const rel of nginx.stored().filter((p) => p.startsWith('cas/'))) {
        const path = join(nginx.storeDir, rel);
        const bytes = readFileSync(path);
        if (bytes.toString('utf8').startsWith('{"entries"')) continue; // file blobs only: entries and trees look fine
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
        writeFileSync(path, bytes);
      }
      const poisoned = kiln(['build', '--json', '--key', `${key}.key`], { cwd: repo, home: join(root, 'home-d'), env });
      expect(poisoned.status).toBe(0);
      const d = JSON.parse(poisoned.stdout) as Built;
      expect(step(d, 'compile').cache).toBe('miss'); // its blobs were wrong; `test` (no outputs) may still hit
      expect(d.artifacts[0]?.digest).toBe(a.artifacts[0]?.digest);
      await nginx.stop();
      const c = kiln(['build', '--json', '--key', `${key}.key`], { cwd: repo, home: join(root, 'home-c'), env });
      expect(c.status).toBe(0);
      expect(JSON.parse(c.stdout).artifacts[0].digest).toBe(a.artifacts[0]?.digest);
      expect(c.stderr).toMatch(/remote cache/i);
    } finally {
      await nginx.stop();
    }
  });
});

describe('a remote cache named in kiln.yaml, with the keys it trusts', () => {
  it('hits entries signed by a trusted key, and rebuilds past entries signed by another key or tampered with', async () => {
    const nginx = await startNginxCache();
    try {
      const root = tempDir();
      const keys = (name: string) => {
        const out = join(root, name);
        expect(kiln(['keys', 'generate', '--out', out], { cwd: root, home: join(root, `keys-${name}`) }).status).toBe(
          0,
        );
        return { key: `${out}.key`, pub: readFileSync(`${out}.pub`, 'utf8') };
      };
      const ci = keys('ci');
      const mallory = keys('mallory');
      const repo = join(root, 'repo');
      const yaml = `${DEMO_KILN_YAML}cache:\n  remote: ${nginx.url}\n  trust: [keys/ci.pub]\n`;
      makeRepo(repo, demoProject({ 'kiln.yaml': yaml, 'keys/ci.pub': ci.pub }));
      let homes = 0;
      const buildIn = (key?: string) => {
        const r = kiln(['build', '--json', ...(key ? ['--key', key] : [])], {
          cwd: repo,
          home: join(root, `h${homes++}`),
        });
        if (r.status !== 0) throw new Error(`kiln build failed (${r.status}):\n${r.stderr}`);
        return { built: JSON.parse(r.stdout) as Built, stderr: r.stderr };
      };
      const clearRemote = () => {
        for (const rel of nginx.stored()) rmSync(join(nginx.storeDir, rel));
      };

      // Entries signed by a key kiln.yaml does not trust: a warning and a miss; the step runs again.
      const planted = buildIn(mallory.key);
      expect(planted.built.cache).toMatchObject({ hits: 0, misses: 2 });
      expect(nginx.stored().some((p) => p.startsWith('ac/'))).toBe(true);
      const untrusted = buildIn();
      expect(untrusted.built.cache).toMatchObject({ hits: 0, misses: 2 });
      expect(untrusted.stderr).toMatch(/ignored the remote cache entry for action \w+: untrusted-key/);
      expect(untrusted.built.artifacts[0]?.digest).toBe(planted.built.artifacts[0]?.digest);

      // Entries signed by the trusted CI key: a fresh home (its own signing key) hits both steps.
      clearRemote();
      const fromCi = buildIn(ci.key);
      expect(fromCi.built.cache).toMatchObject({ hits: 0, misses: 2 });
      const trusted = buildIn();
      expect(trusted.built.cache).toMatchObject({ hits: 2, misses: 0 });
      expect(step(trusted.built, 'compile')).toMatchObject({ cache: 'hit', producedBy: fromCi.built.buildId });

      // The same entries with their payload changed (signature kept): a miss, never a hit.
      for (const rel of nginx.stored().filter((p) => p.startsWith('ac/'))) {
        const path = join(nginx.storeDir, rel);
        const envelope = JSON.parse(readFileSync(path, 'utf8'));
        const payload = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
        payload.producedBy.buildId = 'forged';
        envelope.payload = Buffer.from(JSON.stringify(payload)).toString('base64');
        writeFileSync(path, JSON.stringify(envelope));
      }
      const tampered = buildIn();
      expect(tampered.built.cache).toMatchObject({ hits: 0, misses: 2 });
      expect(tampered.stderr).toMatch(/ignored the remote cache entry for action \w+: bad-signature/);
      expect(tampered.built.artifacts[0]?.digest).toBe(fromCi.built.artifacts[0]?.digest);
    } finally {
      await nginx.stop();
    }
  });
});

describe('the sandbox, seen from a build', () => {
  it('shows a step only its declared inputs, never the Kiln home or keys', () => {
    const root = tempDir();
    const repo = join(root, 'repo');
    const home = join(root, 'home');
    const checks = [
      'test -f src/main.js',
      'test ! -e src/util.js', // not declared as an input of this step
      `test ! -e ${home}`,
      `test ! -e ${join(home, 'keys', 'default.key')}`,
      'test ! -e /root',
    ]
      .map((c, i) => `{ ${c} || echo "check ${i} failed: ${c}"; }`)
      .join('; ');
    const yaml = DEMO_KILN_YAML.replace(
      '    inputs: [src/**, package.json]',
      '    inputs: [src/main.js, package.json]',
    ).replace(
      'run: test -f out/lib/main.js && echo tests ok',
      `run: ${JSON.stringify(checks)}\n    inputs: [src/main.js]`,
    );
    makeRepo(repo, demoProject({ 'kiln.yaml': yaml }));
    const r = kiln(['build'], { cwd: repo, home });
    expect(r.status).toBe(0);
    const shown = JSON.parse(kiln(['builds', '--json'], { cwd: repo, home }).stdout)[0];
    const log = readFileSync(join(home, 'builds', shown.id, 'logs', 'test.log'), 'utf8');
    expect(log).toBe('');
  });

  it('cuts a step off the network unless it declares network: true', async () => {
    const server = createServer((socket) => socket.end()).listen(0, '127.0.0.1');
    await new Promise((done) => server.once('listening', done));
    const port = (server.address() as AddressInfo).port;
    try {
      const connect = `node -e "require('net').connect(${port},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',(e)=>{console.log(e.code);process.exit(3)})"`;
      for (const network of [false, true]) {
        const root = tempDir();
        const repo = join(root, 'repo');
        const yaml = DEMO_KILN_YAML.replace(
          'run: test -f out/lib/main.js && echo tests ok',
          `run: ${JSON.stringify(connect)}\n    network: ${network}`,
        );
        makeRepo(repo, demoProject({ 'kiln.yaml': yaml }));
        const r = kiln(['build'], { cwd: repo, home: join(root, 'home') });
        if (network) expect(r.status).toBe(0);
        else {
          expect(r.status).toBe(1);
          expect(r.stderr).toMatch(/step test failed with exit code 3[\s\S]*\| (ENETUNREACH|ECONNREFUSED)/);
        }
      }
    } finally {
      server.close();
    }
  });
});
