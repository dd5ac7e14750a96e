// A step's outputs as data: a sorted manifest of files, dirs and symlinks whose file contents live in the CAS.
import { type Digest, isDigest, sha256Digest } from '../../core/digest.js';
import { KilnError } from '../../core/errors.js';
import { canonicalJson, deepFreeze, isRecord } from '../../core/json.js';
import type { BlobStore } from '../types.js';

/** One output path, relative to the step's root with `/` separators; its kind decides which fields it has. */
export type TreeEntry =
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly digest: Digest;
      readonly size: number;
      readonly executable: boolean;
    }
  | { readonly kind: 'dir'; readonly path: string }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

/** Everything a step produced, sorted by path; restoring it reproduces the outputs bit for bit. */
export interface OutputTree {
  readonly entries: readonly TreeEntry[];
}

/** The stored form of a tree: its canonical JSON (the bytes the tree digest is taken over). */
export function treeBytes(tree: OutputTree): Buffer {
  return Buffer.from(canonicalJson(tree), 'utf8');
}

/** Digests already computed, per tree object (a tree is never changed once made). */
const digests = new WeakMap<OutputTree, Digest>();

/** The tree's address in the CAS: what an action entry points at and what downstream cache keys include. */
export function treeDigest(tree: OutputTree): Digest {
  let digest = digests.get(tree);
  if (digest === undefined) {
    digest = sha256Digest(treeBytes(tree));
    digests.set(tree, digest);
  }
  return digest;
}

/** Fetches and validates the tree stored under `digest`; a missing or bad tree is KILN_CACHE_CORRUPT (callers: a miss). */
export async function loadOutputTree(digest: Digest, store: BlobStore): Promise<OutputTree> {
  const bytes = await store.getBlob(digest);
  if (bytes === undefined) throw corrupt(`output tree ${digest} is not in the cache`);
  const actual = sha256Digest(bytes);
  if (actual !== digest) throw corrupt(`output tree ${digest} read from the cache hashes to ${actual}`);
  return parseOutputTree(bytes, digest);
}

/** Validates tree bytes read from a cache: every path safe and unique, sorted, nothing nested under a file or link. */
export function parseOutputTree(bytes: Buffer, label: string): OutputTree {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw corrupt(`output tree ${label} is not JSON`, cause);
  }
  const entries = isRecord(raw) ? raw.entries : undefined;
  if (!Array.isArray(entries)) throw corrupt(`output tree ${label} has no "entries" array`);
  const problems: string[] = [];
  const kinds = new Map<string, TreeEntry['kind']>();
  const parsed: TreeEntry[] = [];
  for (const [i, value] of entries.entries()) {
    const entry = parseEntry(value, `entries[${i}]`, problems);
    if (entry === undefined) continue;
    const previous = parsed[parsed.length - 1];
    if (previous !== undefined && !(previous.path < entry.path)) {
      problems.push(`entries[${i}].path ${JSON.stringify(entry.path)} is not after ${JSON.stringify(previous.path)}`);
    }
    const parent = entry.path.includes('/') ? entry.path.slice(0, entry.path.lastIndexOf('/')) : undefined;
    const parentKind = parent === undefined ? undefined : kinds.get(parent);
    if (parentKind !== undefined && parentKind !== 'dir') {
      problems.push(`entries[${i}].path ${JSON.stringify(entry.path)} lies under a ${parentKind}`);
    }
    kinds.set(entry.path, entry.kind);
    parsed.push(entry);
  }
  if (problems.length > 0) {
    throw corrupt(`output tree ${label} is invalid: ${problems.slice(0, 5).join('; ')}`, undefined, problems);
  }
  return deepFreeze({ entries: parsed });
}

/** True for a relative `/`-separated path with no empty, `.` or `..` segment (so it cannot leave its root). */
export function isSafeRelPath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\0')) return false;
  return path.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

function parseEntry(value: unknown, at: string, problems: string[]): TreeEntry | undefined {
  if (!isRecord(value)) return void problems.push(`${at} is not an object`);
  const { kind, path } = value;
  if (typeof path !== 'string' || !isSafeRelPath(path)) {
    return void problems.push(`${at}.path ${JSON.stringify(path)} is not a safe relative path`);
  }
  switch (kind) {
    case 'dir':
      return { kind, path };
    case 'symlink': {
      const { target } = value;
      if (typeof target === 'string' && target !== '' && !target.includes('\0') && !target.startsWith('/')) {
        return { kind, path, target };
      }
      return void problems.push(`${at}.target ${JSON.stringify(target)} is not a relative link target`);
    }
    case 'file': {
      const { digest, size, executable } = value;
      if (!isDigest(digest)) return void problems.push(`${at}.digest ${JSON.stringify(digest)} is not a digest`);
      if (!Number.isSafeInteger(size) || (size as number) < 0) {
        return void problems.push(`${at}.size ${JSON.stringify(size)} is not a byte count`);
      }
      if (typeof executable !== 'boolean') return void problems.push(`${at}.executable is not a boolean`);
      return { kind, path, digest, size: size as number, executable };
    }
    default:
      return void problems.push(`${at}.kind ${JSON.stringify(kind)} is not file, dir or symlink`);
  }
}

/** The error every unusable cached tree raises: callers treat it as a cache miss and rebuild. */
export function corrupt(message: string, cause?: unknown, problems?: string[]): KilnError {
  return new KilnError('KILN_CACHE_CORRUPT', message, {
    hint: 'the cached outputs cannot be used, so the step runs again; if this keeps happening, check the cache disk',
    ...(cause === undefined ? {} : { cause }),
    ...(problems === undefined ? {} : { details: { problems } }),
  });
}
