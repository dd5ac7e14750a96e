import { chmodSync, copyFileSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILDER_TOOLS } from '../../../src/sandbox/identity.js';
import { hostBuilderDigest, loadToolMemo, rootfsBuilderDigest, type ToolFacts } from '../../../src/sandbox/index.js';
import { tempDir } from '../../helpers/tmp.js';

/** A PATH whose first entry holds a fake tool we can change. */
function fakeToolchain() {
  const bin = join(tempDir(), 'bin');
  mkdirSync(bin);
  const tool = join(bin, 'faketool');
  writeFileSync(tool, '#!/bin/sh\necho faketool 1.0\n', { mode: 0o755 });
  return { bin, tool, path: `${bin}:/usr/bin:/bin` };
}

describe('host builder digest', () => {
  it('is stable across calls and records where each tool resolved, its hash and cheap versions', async () => {
    const { bin, path } = fakeToolchain();
    symlinkSync('faketool', join(bin, 'alias'));
    const opts = { tools: ['node', 'alias', 'faketool', 'sh', 'npm', 'git'], path };
    const first = await hostBuilderDigest(opts);
    const second = await hostBuilderDigest({ ...opts, tools: [...opts.tools].reverse() });
    expect(second).toEqual(first);
    expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(first.tools.map((t) => t.name)).toEqual(['alias', 'faketool', 'git', 'node', 'npm', 'sh']);
    const alias = first.tools.find((t) => t.name === 'alias');
    expect(alias).toMatchObject({ path: join(bin, 'alias'), realpath: join(bin, 'faketool') });
    expect(alias?.sha256).toBe(first.tools.find((t) => t.name === 'faketool')?.sha256);
    expect(first.tools.find((t) => t.name === 'node')?.version).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(first.tools.find((t) => t.name === 'npm')?.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.isFrozen(first.tools)).toBe(true);
  });

  it('records a version for every default tool and python3: probed, else the Debian package, else the file hash', async () => {
    const { bin, path } = fakeToolchain();
    writeFileSync(join(bin, 'silent'), '#!/bin/sh\nexit 3\n', { mode: 0o755 }); // no version, in no package
    const host = await hostBuilderDigest({ tools: [...BUILDER_TOOLS, 'python3', 'silent', 'faketool'], path });
    const versions = Object.fromEntries(host.tools.map((t) => [t.name, t.version]));
    expect(Object.keys(versions)).toEqual([...BUILDER_TOOLS, 'python3', 'silent', 'faketool'].sort());
    for (const name of ['bash', 'cp', 'tar', 'gzip', 'find', 'npx', 'npm', 'git', 'python3'])
      expect(versions[name], name).toMatch(/^\d+\.\d+[\w.()+-]*$/);
    expect(versions.node).toMatch(/^v\d+\.\d+\.\d+$/);
    // dash (Debian's sh) has no --version: its package names it.
    expect(versions.sh).toMatch(/^dpkg:dash=\d[\w.+:~-]*$|^\d+\.\d+/);
    const silent = host.tools.find((t) => t.name === 'silent');
    expect(silent?.version).toBe(`sha256:${silent?.sha256.slice(0, 16)}`);
    expect(versions.faketool).toBe('1.0');
  });

  it('changes when a tool binary changes, even with the same size (the per-process memo notices)', async () => {
    const { tool, path } = fakeToolchain();
    const before = await hostBuilderDigest({ tools: ['faketool', 'sh'], path });
    writeFileSync(tool, '#!/bin/sh\necho faketool 1.1\n');
    const after = await hostBuilderDigest({ tools: ['faketool', 'sh'], path });
    expect(after.digest).not.toBe(before.digest);
    expect(after.tools[1]).toEqual(before.tools[1]); // sh untouched
  });

  it('changes when the tool list changes or a tool goes missing, and says which are missing', async () => {
    const { path } = fakeToolchain();
    const base = await hostBuilderDigest({ tools: ['faketool'], path });
    const more = await hostBuilderDigest({ tools: ['faketool', 'tar'], path });
    const absent = await hostBuilderDigest({ tools: ['faketool', 'kiln-no-such-tool'], path });
    expect(new Set([base.digest, more.digest, absent.digest]).size).toBe(3);
    expect(absent.missing).toEqual(['kiln-no-such-tool']);
    const notExecutable = fakeToolchain();
    chmodSync(notExecutable.tool, 0o644);
    expect((await hostBuilderDigest({ tools: ['faketool'], path: notExecutable.path })).missing).toEqual(['faketool']);
  });

  it('ignores empty and relative PATH entries and refuses tool names with a slash', async () => {
    const { path } = fakeToolchain();
    const plain = await hostBuilderDigest({ tools: ['faketool'], path });
    expect(await hostBuilderDigest({ tools: ['faketool'], path: `:.:bin:${path}` })).toEqual(plain);
    await expect(hostBuilderDigest({ tools: ['./faketool'], path })).rejects.toMatchObject({ code: 'KILN_SANDBOX' });
  });

  it('can remember hashes across processes in a memo file, and ignores a corrupt one', async () => {
    const { path } = fakeToolchain();
    const file = join(tempDir(), 'tool-memo.json');
    const opts = { tools: ['faketool', 'sh', 'node'], path };
    const fresh = await hostBuilderDigest({ ...opts, memo: new Map<string, ToolFacts>() });
    const memo = await loadToolMemo(file);
    expect(await hostBuilderDigest({ ...opts, memo })).toEqual(fresh);
    await memo.save();
    const reloaded = await loadToolMemo(file);
    const lookups: ToolFacts[] = [];
    const counting = {
      get: (id: string) => {
        const hit = reloaded.get(id);
        if (hit) lookups.push(hit);
        return hit;
      },
      set: () => expect.fail('nothing should be recomputed'),
    };
    expect(await hostBuilderDigest({ ...opts, memo: counting })).toEqual(fresh);
    expect(lookups).toHaveLength(3);
    writeFileSync(file, '{"format":"kiln-tool-memo-v2","entries":[["x",{"sha256":"nothex"}]]');
    expect(await hostBuilderDigest({ ...opts, memo: await loadToolMemo(file) })).toEqual(fresh);
  });
});

describe('rootfs builder digest', () => {
  function rootfs() {
    const dir = tempDir('kiln-rootfs-');
    mkdirSync(join(dir, 'usr', 'bin'), { recursive: true });
    writeFileSync(join(dir, 'usr', 'bin', 'tool'), 'binary v1', { mode: 0o755 });
    writeFileSync(join(dir, 'big'), Buffer.alloc(3 * 1024 * 1024 + 7, 1)); // several read chunks
    symlinkSync('usr/bin', join(dir, 'bin'));
    mkdirSync(join(dir, 'empty'));
    return dir;
  }

  it('is stable and ignores timestamps', async () => {
    const dir = rootfs();
    const first = await rootfsBuilderDigest(dir);
    utimesSync(join(dir, 'usr', 'bin', 'tool'), new Date(0), new Date(0));
    expect(await rootfsBuilderDigest(dir)).toEqual(first);
    expect(first).toMatchObject({ entries: 6, bytes: 3 * 1024 * 1024 + 7 + 9 });
  });

  it('changes with any content, mode, name, link target or new directory', async () => {
    const changes: ((dir: string) => void)[] = [
      (dir) => writeFileSync(join(dir, 'usr', 'bin', 'tool'), 'binary v2'),
      (dir) => chmodSync(join(dir, 'usr', 'bin', 'tool'), 0o700),
      (dir) => copyFileSync(join(dir, 'usr', 'bin', 'tool'), join(dir, 'usr', 'bin', 'tool2')),
      (dir) => mkdirSync(join(dir, 'empty', 'more')),
      (dir) => {
        writeFileSync(join(dir, 'big'), Buffer.concat([Buffer.alloc(3 * 1024 * 1024 + 6, 1), Buffer.from([2])]));
      },
    ];
    const base = (await rootfsBuilderDigest(rootfs())).digest;
    const seen = new Set([base]);
    for (const change of changes) {
      const dir = rootfs();
      change(dir);
      seen.add((await rootfsBuilderDigest(dir)).digest);
    }
    const relinked = rootfs();
    rmSync(join(relinked, 'bin'));
    symlinkSync('/usr/bin', join(relinked, 'bin'));
    seen.add((await rootfsBuilderDigest(relinked)).digest);
    expect(seen.size).toBe(changes.length + 2);
  });

  it('fails with KILN_SANDBOX for a missing directory', async () => {
    await expect(rootfsBuilderDigest(join(tempDir(), 'nope'))).rejects.toMatchObject({ code: 'KILN_SANDBOX' });
  });
});
