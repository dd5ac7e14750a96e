// The builder digest for the host toolchain: which binaries the steps' PATH resolves to, their bytes and
// versions. It is part of every cache key and of provenance, so it is computed every build and must be cheap:
// file hashes and version probes are remembered per file identity (device, inode, size, mtime, ctime).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { type Digest, sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { canonicalJson, deepFreeze } from '../core/json.js';
import { toolVersion } from './tool-version.js';

/** One tool as it enters the builder digest. */
export interface BuilderTool {
  readonly name: string;
  /** Where PATH finds it. */
  readonly path: string;
  /** The file actually run, symlinks followed. */
  readonly realpath: string;
  /** Bare hex sha256 of that file. */
  readonly sha256: string;
  readonly version?: string;
}

/** The host toolchain's identity: the digest plus what it was computed from (for provenance and --explain). */
export interface HostBuilder {
  readonly digest: Digest;
  readonly tools: readonly BuilderTool[];
  /** Requested tools not found on PATH (their absence is part of the digest too). */
  readonly missing: readonly string[];
}

/** What is remembered about one file: its hash and its version (see tool-version.ts). */
export interface ToolFacts {
  readonly sha256: string;
  readonly version?: string;
}

/** Remembers ToolFacts by file identity; the default lives for the process, a persistent one can span builds. */
export interface ToolMemo {
  get(identity: string): ToolFacts | undefined;
  set(identity: string, facts: ToolFacts): void;
}

const HASH_CHUNK = 1 << 20; // 1 MiB reads: node's ~100 MB binary hashes ~40% faster than with 64 KiB
const processMemo: ToolMemo = new Map<string, ToolFacts>();

/** Resolves `tools` on `path`, hashes each resolved file and probes versions; the digest covers all of it. */
export async function hostBuilderDigest(opts: {
  tools: readonly string[];
  path: string;
  memo?: ToolMemo;
}): Promise<HostBuilder> {
  const memo = opts.memo ?? processMemo;
  const names = [...new Set(opts.tools)].sort();
  const bad = names.filter((n) => n === '' || n.includes('/'));
  if (bad.length > 0) {
    throw new KilnError(
      'KILN_SANDBOX',
      `builder tools must be bare command names, got ${bad.map((n) => JSON.stringify(n)).join(', ')}`,
      {
        hint: 'list commands as the steps call them, e.g. node, npm, git',
      },
    );
  }
  const found = await Promise.all(names.map((name) => describeTool(name, opts.path, memo)));
  const tools = found.filter((t): t is BuilderTool => t !== undefined);
  const missing = names.filter((_, i) => found[i] === undefined);
  const digest = sha256Digest(canonicalJson({ builder: 'kiln-host-v1', tools, missing }));
  return deepFreeze({ digest, tools, missing });
}

async function describeTool(name: string, searchPath: string, memo: ToolMemo): Promise<BuilderTool | undefined> {
  const path = await which(name, searchPath);
  if (!path) return undefined;
  const real = await realpath(path);
  const st = await stat(real, { bigint: true });
  const identity = [name, real, st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join('\0');
  let facts = memo.get(identity);
  if (!facts) {
    const sha256 = await hashFile(real);
    // Probed through the name PATH found, not the file it resolves to: a multi-call binary goes by its name.
    facts = { sha256, version: await toolVersion(path, real, sha256, searchPath) };
    memo.set(identity, facts);
  }
  return { name, path, realpath: real, ...facts };
}

/** The first executable regular file named `name` in the absolute entries of `searchPath`. */
async function which(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(':')) {
    if (!isAbsolute(dir)) continue; // "" and relative entries depend on the cwd: never part of a builder
    const candidate = join(dir, name);
    const st = await stat(candidate).catch(() => undefined);
    if (st?.isFile() && (st.mode & 0o111) !== 0) return candidate;
  }
  return undefined;
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: HASH_CHUNK })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
