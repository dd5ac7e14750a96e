// The build's view of the commit's files. A clean build reads them from git's object store (no checkout until a step
// actually has to run); a dirty build copies the working tree once and reads the copy.
import { promises as fsp } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { TextSeal } from '../core/seal.js';
import { writeFileAtomic } from '../platform/fsutil.js';
import { commitBlobSizes } from '../source/commit-blob-sizes.js';
import {
  blobReader,
  type CommitFile,
  type GitEnv,
  listCommitFiles,
  materialize,
  type SourceRef,
} from '../source/index.js';
import { type BlobMemo, loadBlobMemo, NO_BLOB_MEMO } from './blob-memo.js';
import { commitInputIndex, directoryInputIndex, type InputIndex } from './inputs.js';
import { listDirsOnDisk } from './workspaces/glob.js';

/** Reading the project's files as the build sees them, and laying them out on disk when a step needs them. */
export interface SourceView {
  /** Where the project is (or will be, after ensureTree) on disk. */
  readonly projectDir: string;
  readonly inputs: InputIndex;
  /** A project file by absolute path under projectDir; a missing one rejects with code ENOENT. */
  readFile(absPath: string): Promise<Buffer>;
  /** Subdirectory names of an absolute directory under projectDir. */
  listDirs(absDir: string): Promise<string[]>;
  /** Checks the tree out (once) before anything reads it from disk. */
  ensureTree(): Promise<void>;
  /** Writes the given project files (paths relative to the project) under `dest`, with their modes and links. */
  copyFiles(paths: readonly string[], dest: string): Promise<void>;
}

/**
 * The view of `source` whose checkout, when needed, goes to `treeDir`. With `blobMemo` (a file in the Kiln home,
 * sealed with `seal`: input digests choose cache hits and are recorded in provenance, so an edited memo is ignored),
 * input digests computed by earlier builds are reused for a clean commit.
 */
export async function sourceView(
  source: SourceRef,
  treeDir: string,
  env: GitEnv,
  opts: { blobMemo?: { file: string; seal: TextSeal } } = {},
): Promise<SourceView> {
  const projectDir = join(treeDir, source.subdir);
  let tree: Promise<void> | undefined;
  const ensureTree = () => {
    tree ??= materialize(source, treeDir, env);
    return tree;
  };
  if (source.dirty) {
    // The working tree's copy holds no submodule files either: the commit says where they are.
    const [{ submodules }] = await Promise.all([
      listCommitFiles(source.repoRoot, source.commit, source.subdir, env),
      ensureTree(),
    ]);
    return {
      projectDir,
      inputs: directoryInputIndex(projectDir, submodules),
      readFile: (p) => fsp.readFile(p),
      listDirs: listDirsOnDisk,
      ensureTree,
      copyFiles: (paths, dest) => copyFromDisk(projectDir, paths, dest),
    };
  }
  // Started now so that loading the memo and asking git for blob sizes overlap the listing and the planning.
  const memo = opts.blobMemo === undefined ? undefined : commitBlobMemo(source, env, opts.blobMemo);
  const { files, submodules } = await listCommitFiles(source.repoRoot, source.commit, source.subdir, env);
  // One git process for every read of the build (it ends on its own once the build reads no more).
  const reader = blobReader(source.repoRoot, env);
  const read = (blobs: readonly string[], onBlob: (blob: string, content: Buffer) => void) =>
    reader.read(blobs, onBlob);
  const byPath = new Map(files.map((f) => [f.path, f]));
  const dirs = new Map<string, Set<string>>();
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 0; i < parts.length - 1; i++) {
      const parent = parts.slice(0, i).join('/');
      const set = dirs.get(parent) ?? new Set<string>();
      dirs.set(parent, set);
      set.add(parts[i] as string);
    }
  }
  const rel = (abs: string) => relative(projectDir, abs).split(sep).join('/');
  return {
    projectDir,
    inputs: commitInputIndex(files, read, memo, submodules),
    ensureTree,
    listDirs: async (abs) => [...(dirs.get(rel(abs)) ?? [])].sort(),
    readFile: batchedReader(byPath, rel, read),
    async copyFiles(paths, dest) {
      const wanted = paths.map((p) => byPath.get(p)).filter((f): f is CommitFile => f !== undefined);
      const byBlob = new Map<string, CommitFile[]>();
      for (const f of wanted) byBlob.set(f.blob, [...(byBlob.get(f.blob) ?? []), f]);
      const writes: Promise<void>[] = [];
      await read([...byBlob.keys()], (blob, content) => {
        for (const f of byBlob.get(blob) ?? []) writes.push(writeOne(join(dest, f.path), f, content));
      });
      await Promise.all(writes);
    },
  };
}

/** The blob memo for `source`'s commit; it never rejects: if git cannot tell sizes or the format, nothing is reused. */
function commitBlobMemo(source: SourceRef, env: GitEnv, memo: { file: string; seal: TextSeal }): Promise<BlobMemo> {
  const io = {
    read: async (file: string) => memo.seal.open(await fsp.readFile(file, 'utf8')) ?? '',
    write: async (file: string, text: string) => writeFileAtomic(file, await memo.seal.seal(text)),
  };
  return Promise.all([
    loadBlobMemo(memo.file, { io }),
    commitBlobSizes(source.repoRoot, source.commit, source.subdir, env),
  ])
    .then(([memo, sizes]) => memo.forCommit(sizes))
    .catch(() => NO_BLOB_MEMO);
}

/** Reads requested in the same tick share one `git cat-file --batch` (a workspace reads all its package.json at once). */
function batchedReader(
  byPath: ReadonlyMap<string, { kind: string; blob: string }>,
  rel: (abs: string) => string,
  read: (blobs: readonly string[], onBlob: (blob: string, content: Buffer) => void) => Promise<void>,
): (abs: string) => Promise<Buffer> {
  let queue: { blob: string; done: (b: Buffer) => void; fail: (e: unknown) => void }[] = [];
  const flush = async () => {
    const batch = queue;
    queue = [];
    const got = new Map<string, Buffer>();
    try {
      await read([...new Set(batch.map((q) => q.blob))], (blob, content) => got.set(blob, content));
      for (const q of batch) q.done(got.get(q.blob) ?? Buffer.alloc(0));
    } catch (err) {
      for (const q of batch) q.fail(err);
    }
  };
  return (abs) => {
    const file = byPath.get(rel(abs));
    if (file?.kind !== 'file') {
      return Promise.reject(Object.assign(new Error(`${abs}: not in the commit`), { code: 'ENOENT' }));
    }
    return new Promise<Buffer>((done, fail) => {
      if (queue.length === 0) setImmediate(() => void flush());
      queue.push({ blob: file.blob, done, fail });
    });
  };
}

async function writeOne(path: string, file: CommitFile, content: Buffer): Promise<void> {
  await fsp.mkdir(dirname(path), { recursive: true });
  if (file.kind === 'symlink') await fsp.symlink(content.toString('utf8'), path);
  else await fsp.writeFile(path, content, { mode: file.executable ? 0o755 : 0o644 });
}

async function copyFromDisk(root: string, paths: readonly string[], dest: string): Promise<void> {
  for (const path of paths) {
    const from = join(root, path);
    const to = join(dest, path);
    await fsp.mkdir(dirname(to), { recursive: true });
    const stat = await fsp.lstat(from);
    if (stat.isSymbolicLink()) await fsp.symlink(await fsp.readlink(from), to);
    else await fsp.copyFile(from, to);
  }
}
