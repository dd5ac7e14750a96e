// git blob id → the digest Kiln computed from that blob's content, kept in the Kiln home across builds, so a warm
// build reads from git only the blobs its commit changed (a 1,100-file monorepo: ~120 ms of `git cat-file` + sha256
// → ~20 ms). It is only a cache: a missing, unreadable or malformed file is empty, and saving never fails a build.
import { readFile } from 'node:fs/promises';
import type { Digest } from '../core/digest.js';
import { writeFileAtomic } from '../platform/fsutil.js';
import type { CommitBlobSizes } from '../source/commit-blob-sizes.js';

// One `<format>:<kind>:<blob id> <sha256 hex> <size>` line per entry, oldest first. Plain lines, not JSON: 50k
// entries load in ~15 ms where JSON.parse takes ~60 ms.
const HEADER = 'kiln-blob-memo-v1';
/** Entries kept besides those this build used (~120 bytes each: the file stays under ~6 MB). */
const MAX_OTHERS = 50_000;
/** The blob id length of each object format git has: an id of another length is not memoised. */
const ID_LENGTH: Readonly<Record<string, number>> = { sha1: 40, sha256: 64 };
const KEY = /^(?:sha1|sha256):(?:file|symlink):[0-9a-f]+$/;
const VALUE = /^[0-9a-f]{64} (?:0|[1-9][0-9]{0,14})$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** How a blob enters an action key: as file content, or as a symlink's target (`symlink:<target>`). */
export type BlobKind = 'file' | 'symlink';

/** The memo as one commit's input index uses it. */
export interface BlobMemo {
  /** The digest remembered for `blob` read as `kind`, only if the size remembered with it is git's size of it. */
  recall(kind: BlobKind, blob: string): Digest | undefined;
  /** Remembers the digest Kiln has just computed from the blob's `size` bytes (never a digest from elsewhere). */
  remember(kind: BlobKind, blob: string, digest: Digest, size: number): void;
  /** Writes the memo back (atomically) if something was remembered; never rejects (a read-only home must work). */
  save(): Promise<void>;
}

/** The memo file's effects: production defaults read the file and replace it atomically. */
export interface BlobMemoIo {
  read(file: string): Promise<string>;
  write(file: string, text: string): Promise<void>;
}

const FS_IO: BlobMemoIo = {
  read: (file) => readFile(file, 'utf8'),
  write: (file, text) => writeFileAtomic(file, text),
};

/** A memo that remembers nothing: for a repository whose object format Kiln does not know, or no memo file. */
export const NO_BLOB_MEMO: BlobMemo = Object.freeze({
  recall: () => undefined,
  remember: () => undefined,
  save: async () => undefined,
});

/** The entries of a memo file, before knowing which commit they serve (loaded while git lists the commit). */
export interface BlobMemoFile {
  /** The memo for one commit: entries keyed by its repository's object format, checked against git's sizes. */
  forCommit(commit: CommitBlobSizes): BlobMemo;
}

/** Loads the memo in `file`; anything but a well-formed memo file (missing, unreadable, foreign) counts as empty. */
export async function loadBlobMemo(
  file: string,
  opts: { io?: BlobMemoIo; maxOthers?: number } = {},
): Promise<BlobMemoFile> {
  const io = opts.io ?? FS_IO;
  const stored = parseBlobMemo(await io.read(file).catch(() => ''));
  return {
    forCommit: ({ format, sizes }) => {
      const idLength = ID_LENGTH[format];
      if (idLength === undefined) return NO_BLOB_MEMO;
      return commitMemo({ file, io, stored, sizes, maxOthers: opts.maxOthers ?? MAX_OTHERS, format, idLength });
    },
  };
}

function commitMemo(m: {
  file: string;
  io: BlobMemoIo;
  stored: ReadonlyMap<string, string>;
  sizes: ReadonlyMap<string, number>;
  maxOthers: number;
  format: string;
  idLength: number;
}): BlobMemo {
  const isId = (blob: string) => blob.length === m.idLength && /^[0-9a-f]+$/.test(blob);
  // What this build used or computed: written last (most recent), and kept whatever the cap.
  const used = new Map<string, string>();
  let dirty = false;
  return {
    recall(kind, blob) {
      const size = m.sizes.get(blob);
      if (size === undefined || blob.length !== m.idLength) return undefined;
      const key = `${m.format}:${kind}:${blob}`;
      const value = used.get(key) ?? m.stored.get(key);
      // `<64 hex> <size>`, compared without a capturing regex: this runs for every input of every warm build.
      if (value === undefined || value.charCodeAt(64) !== 32 || value.slice(65) !== String(size)) return undefined;
      const hex = value.slice(0, 64);
      if (!HEX64.test(hex)) return undefined;
      used.set(key, value);
      return `sha256:${hex}`;
    },
    remember(kind, blob, digest, size) {
      const value = `${digest.slice('sha256:'.length)} ${size}`;
      if (!isId(blob) || !VALUE.test(value)) return;
      used.set(`${m.format}:${kind}:${blob}`, value);
      dirty = true;
    },
    async save() {
      if (!dirty) return;
      dirty = false;
      await m.io.write(m.file, serializeBlobMemo(m.stored, used, m.maxOthers)).catch(() => undefined);
    },
  };
}

/** The memo file's entries (key → `<hex> <size>`, validated when recalled); empty unless the header is ours. */
export function parseBlobMemo(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  const first = text.indexOf('\n');
  if (first < 0 || text.slice(0, first) !== HEADER) return entries;
  let space = -1; // the next space at or after `at`, reused while lines without one go by (linear, however malformed)
  for (let at = first + 1; at < text.length; ) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    if (space < at) {
      const found = text.indexOf(' ', at);
      space = found < 0 ? text.length : found;
    }
    if (space > at && space < end) entries.set(text.slice(at, space), text.slice(space + 1, end));
    at = end + 1;
  }
  return entries;
}

/** The file text: the most recent `maxOthers` entries this build did not use, then all it used. */
function serializeBlobMemo(
  stored: ReadonlyMap<string, string>,
  used: ReadonlyMap<string, string>,
  maxOthers: number,
): string {
  const others: string[] = [];
  for (const [key, value] of stored)
    if (!used.has(key) && KEY.test(key) && VALUE.test(value)) others.push(`${key} ${value}\n`);
  const lines = [`${HEADER}\n`, ...others.slice(Math.max(0, others.length - maxOthers))];
  for (const [key, value] of used) lines.push(`${key} ${value}\n`);
  return lines.join('');
}
