import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './tmp.js';

/** A minimal root filesystem: the host's /bin/sh and the shared libraries it needs, an os-release, nothing else. */
export function miniRootfs(): string {
  const rootfs = tempDir('kiln-rootfs-');
  const libs = execFileSync('ldd', ['/bin/sh'], { encoding: 'utf8' }).match(/\/\S+/g) ?? [];
  for (const file of ['/bin/sh', ...libs]) {
    mkdirSync(join(rootfs, dirname(file)), { recursive: true });
    copyFileSync(file, join(rootfs, file));
  }
  mkdirSync(join(rootfs, 'etc'));
  writeFileSync(join(rootfs, 'etc', 'os-release'), 'ID=kiln-test\n');
  symlinkSync('bin', join(rootfs, 'sbin'));
  return rootfs;
}
