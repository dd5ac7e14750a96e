// One long-lived `git cat-file --batch` per reader over a real repository: reads one after another (and at once)
// get the right contents, a missing object rejects that read only, and a reader left open never keeps its process
// alive (a CLI build must exit as soon as it is done, not when the git process idles out).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKilnError } from '../../../src/core/errors.js';
import { blobReader } from '../../../src/source/index.js';
import { git, makeRepo } from '../../helpers/repo.js';
import { tempDir } from '../../helpers/tmp.js';
import { transpileSources } from '../../helpers/transpile.js';

const env = { PATH: process.env.PATH };

function blobOf(repo: string, path: string): string {
  return git(repo, ['rev-parse', `HEAD:${path}`]).trim();
}

/** How many `git cat-file --batch` processes run in `repo` (read from /proc). */
function catFiles(repo: string): number {
  let n = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args.includes('cat-file') && args.includes('--batch') && readlinkSync(`/proc/${pid}/cwd`) === repo) n++;
    } catch {
      // ended meanwhile
    }
  }
  return n;
}

describe('a blob reader', () => {
  it('answers many reads through one git process, in order, and rejects only the read with a missing object', async () => {
    const repo = join(tempDir(), 'repo');
    makeRepo(repo, { a: 'one\n', b: 'two\n', 'dir/c': 'three\n' });
    const [a, b, c] = ['a', 'b', 'dir/c'].map((p) => blobOf(repo, p)) as [string, string, string];
    const reader = blobReader(repo, env, 60_000);
    const read = async (blobs: string[]) => {
      const got: [string, string][] = [];
      await reader.read(blobs, (blob, content) => got.push([blob, content.toString()]));
      return got;
    };
    expect(await read([a, b])).toEqual([
      [a, 'one\n'],
      [b, 'two\n'],
    ]);
    expect(catFiles(repo)).toBe(1);
    // Reads asked for at once are answered one after another, each with its own blobs.
    const [first, second, third] = await Promise.all([read([c]), read([b, a]), read([])]);
    expect(first).toEqual([[c, 'three\n']]);
    expect(second).toEqual([
      [b, 'two\n'],
      [a, 'one\n'],
    ]);
    expect(third).toEqual([]);
    expect(catFiles(repo)).toBe(1);

    const missing = 'f'.repeat(40);
    const err = await read([a, missing]).catch((e: unknown) => e);
    expect(isKilnError(err, 'KILN_SOURCE_GIT')).toBe(true);
    expect((err as Error).message).toContain(`git object ${missing} is missing`);
    expect(await read([b])).toEqual([[b, 'two\n']]); // the same process goes on
    reader.close();
    expect(await read([c])).toEqual([[c, 'three\n']]); // a read after close starts another
    reader.close();
  });

  it('does not keep the process that reads alive once its reads are done', () => {
    const repo = join(tempDir(), 'repo');
    makeRepo(repo, { a: 'one\n' });
    const code = transpileSources(join(tempDir(), 'code'));
    const script = `
      import { blobReader } from ${JSON.stringify(join(code, 'source', 'index.js'))};
      const reader = blobReader(${JSON.stringify(repo)}, { PATH: process.env.PATH }, 600000);
      await reader.read([${JSON.stringify(blobOf(repo, 'a'))}], (_b, content) => process.stdout.write(content));
    `;
    const started = Date.now();
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('one\n');
    expect(run.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000); // not the 10 minutes the idle reader would wait
  });
});
