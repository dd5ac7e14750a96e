// Where Kiln keeps its state under KILN_HOME (default ~/.kiln): one map, so no path is spelt twice.
import { join } from 'node:path';

/** Paths inside a Kiln home directory. */
export interface KilnPaths {
  readonly home: string;
  readonly store: string;
  readonly oci: string;
  readonly keys: string;
  readonly defaultKey: string;
  readonly defaultPub: string;
  /** Where build work dirs go when there is no tmpfs and no KILN_WORK_DIR (see platform/workdir.ts). */
  readonly work: string;
  readonly cache: string;
  readonly toolMemo: string;
  /** git blob → sha256 of its content, so warm builds do not re-read unchanged inputs (see plan/blob-memo.ts). */
  readonly blobMemo: string;
  /** Bare mirrors of remote repositories, one per credential-free URL (see source/mirror.ts). */
  readonly mirrors: string;
  buildDir(buildId: string): string;
}

/** The layout of a Kiln home directory. */
export function kilnPaths(home: string): KilnPaths {
  return {
    home,
    store: join(home, 'store.db'),
    oci: join(home, 'oci'),
    keys: join(home, 'keys'),
    defaultKey: join(home, 'keys', 'default.key'),
    defaultPub: join(home, 'keys', 'default.pub'),
    work: join(home, 'work'),
    cache: join(home, 'cache'),
    toolMemo: join(home, 'tool-memo.json'),
    blobMemo: join(home, 'blob-memo.txt'),
    mirrors: join(home, 'mirrors'),
    buildDir: (id) => join(home, 'builds', id),
  };
}
