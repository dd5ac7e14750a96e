// A commit's files read straight from git's object store: listing and hashing inputs needs no checkout, so a
// build whose steps all replay from the cache never writes the source tree to disk.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { GIT_ISOLATION, type GitEnv, git } from './git.js';

/** One file of the commit below the project directory. */
export interface CommitFile {
  /** Relative to the project directory, POSIX separators. */
  readonly path: string;
  readonly kind: 'file' | 'symlink';
  readonly executable: boolean;
  /** git's blob id: the handle to read the content by. */
  readonly blob: string;
}

/** A commit's files below the project directory, and its submodules there (which have no files in this commit). */
export interface CommitListing {
  readonly files: CommitFile[];
  /** Paths of the submodules (gitlinks), relative to the project directory. */
  readonly submodules: string[];
}

/** Every file and submodule of `commit` under `subdir`, from one `git ls-tree` (NUL-separated: any file name works). */
export async function listCommitFiles(
  repoRoot: string,
  commit: string,
  subdir: string,
  env: GitEnv,
): Promise<CommitListing> {
  const args = ['ls-tree', '-r', '-z', '--full-tree', commit, ...(subdir ? ['--', subdir] : [])];
  const out = await git(repoRoot, args, env);
  const prefix = subdir ? `${subdir}/` : '';
  const files: CommitFile[] = [];
  const submodules: string[] = [];
  for (const line of out.split('\0')) {
    if (!line) continue;
    const tab = line.indexOf('\t');
    const [mode = '', type = '', blob = ''] = line.slice(0, tab).split(' ');
    const full = line.slice(tab + 1);
    if (!full.startsWith(prefix)) continue;
    if (type === 'commit') submodules.push(full.slice(prefix.length));
    if (type !== 'blob') continue;
    files.push({
      path: full.slice(prefix.length),
      kind: mode === '120000' ? 'symlink' : 'file',
      executable: mode === '100755',
      blob,
    });
  }
  return { files, submodules };
}

/** Streams the contents of `blobs` through one `git cat-file --batch`, calling `onBlob` for each. */
export async function readBlobs(
  repoRoot: string,
  blobs: readonly string[],
  env: GitEnv,
  onBlob: (blob: string, content: Buffer) => void,
): Promise<void> {
  const reader = blobReader(repoRoot, env);
  try {
    await reader.read(blobs, onBlob);
  } finally {
    reader.close();
  }
}

/** Reads blobs of one repository, every read through the same `git cat-file --batch`. */
export interface BlobReader {
  /** Calls `onBlob` for each of `blobs`; a missing one rejects (after the others). Reads run one after another. */
  read(blobs: readonly string[], onBlob: (blob: string, content: Buffer) => void): Promise<void>;
  /** Ends the git process (a later read starts another). */
  close(): void;
}

/**
 * A reader whose `git cat-file --batch` is started by the first read and kept for the next ones (a build reads blobs
 * many times, and each process started costs the server a fork). While no read runs, the process does not keep this
 * one alive, and it ends after `idleMs` without a read.
 */
export function blobReader(repoRoot: string, env: GitEnv, idleMs = 2_000): BlobReader {
  let child: ReturnType<typeof spawn> | undefined;
  let idle: ReturnType<typeof setTimeout> | undefined;
  let queue: Promise<void> = Promise.resolve();
  /** The read in progress: its process, how many answers it still waits for, the first blob missing, how it ends. */
  let current:
    | {
        proc: ReturnType<typeof spawn>;
        left: number;
        missing?: string;
        onBlob: (blob: string, content: Buffer) => void;
        done: () => void;
        fail: (err: unknown) => void;
      }
    | undefined;

  const answered = () => {
    const read = current;
    if (!read || --read.left > 0) return;
    current = undefined;
    if (read.missing) {
      read.fail(
        new KilnError('KILN_SOURCE_GIT', `git object ${read.missing} is missing from ${repoRoot}`, {
          hint: 'check that the repository is intact (git fsck)',
        }),
      );
    } else read.done();
  };
  const hold = (p: ReturnType<typeof spawn>, held: boolean) => {
    for (const handle of [p, p.stdin, p.stdout, p.stderr] as ({ ref(): void; unref(): void } | null)[]) {
      if (held) handle?.ref();
      else handle?.unref();
    }
  };
  const start = (): ReturnType<typeof spawn> => {
    const p = spawn('git', ['cat-file', '--batch'], {
      cwd: repoRoot,
      env: { ...env, ...GIT_ISOLATION },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    // A process closed by close() may still end after a new one took over: only its own read hears from it.
    const mine = () => (current?.proc === p ? current : undefined);
    p.stdout?.on(
      'data',
      batchParser(
        (blob, content) => {
          const read = mine();
          if (!read) return;
          read.onBlob(blob, content);
          answered();
        },
        (blob) => {
          const read = mine();
          if (!read) return;
          read.missing ??= blob;
          answered();
        },
      ),
    );
    p.stderr?.on('data', (d) => {
      stderr = (stderr + String(d)).slice(-4096);
    });
    const ended = (err: unknown) => {
      if (child === p) child = undefined;
      const read = mine();
      if (!read) return;
      current = undefined;
      read.fail(err);
    };
    p.on('error', ended);
    p.on('close', (code) =>
      ended(
        new KilnError(
          'KILN_SOURCE_GIT',
          `git cat-file --batch failed in ${repoRoot}: ${stderr.trim() || `exit ${code}`}`,
          { hint: 'check that the repository is intact (git fsck)' },
        ),
      ),
    );
    p.stdin?.on('error', () => undefined); // a dead process: reported by 'close'
    return p;
  };
  const close = () => {
    clearTimeout(idle);
    child?.stdin?.end();
    child = undefined;
  };
  const readNow = (blobs: readonly string[], onBlob: (blob: string, content: Buffer) => void) =>
    new Promise<void>((done, fail) => {
      if (blobs.length === 0) return done();
      clearTimeout(idle);
      child ??= start();
      const p = child;
      hold(p, true);
      const settle = () => {
        hold(p, false);
        idle = setTimeout(close, idleMs);
        idle.unref();
      };
      current = {
        proc: p,
        left: blobs.length,
        onBlob,
        done: () => {
          settle();
          done();
        },
        fail: (err) => {
          settle();
          fail(err);
        },
      };
      p.stdin?.write(`${blobs.join('\n')}\n`);
    });
  return {
    read(blobs, onBlob) {
      const next = queue.then(() => readNow(blobs, onBlob));
      queue = next.catch(() => undefined);
      return next;
    },
    close,
  };
}

/** sha256 of each blob's content, keyed by blob id. */
export async function blobDigests(
  repoRoot: string,
  blobs: readonly string[],
  env: GitEnv,
): Promise<Map<string, Digest>> {
  const out = new Map<string, Digest>();
  await readBlobs(repoRoot, [...new Set(blobs)], env, (blob, content) => {
    out.set(blob, `sha256:${createHash('sha256').update(content).digest('hex')}`);
  });
  return out;
}

/** Parses `<id> <type> <size>\n<content>\n` records from chunks, without re-copying what it already holds. */
function batchParser(
  onBlob: (blob: string, content: Buffer) => void,
  onMissing: (blob: string) => void,
): (chunk: Buffer) => void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let want: { blob: string; size: number } | undefined;
  const take = (n: number): Buffer => {
    const all = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
    pending = all.length > n ? [all.subarray(n)] : [];
    pendingBytes = all.length - n;
    return all.subarray(0, n);
  };
  return (chunk) => {
    pending.push(chunk);
    pendingBytes += chunk.length;
    for (;;) {
      if (!want) {
        const all = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
        pending = [all];
        const nl = all.indexOf(10);
        if (nl < 0) return;
        const [blob = '', type = '', size = '0'] = all.subarray(0, nl).toString('utf8').split(' ');
        take(nl + 1);
        if (type === 'missing') {
          onMissing(blob);
          continue;
        }
        want = { blob, size: Number(size) };
      }
      if (pendingBytes < want.size + 1) return;
      const body = Buffer.from(take(want.size + 1).subarray(0, want.size));
      onBlob(want.blob, body);
      want = undefined;
    }
  };
}
