// Full and read-only disks, made real with tmpfs mounts in a private namespace (test/helpers/full-disk.ts): each is
// reported as what it is, with a code and the place, never as a failed step or a stack trace.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kilnOnSmallDisks, smallDisksUnavailable } from '../helpers/full-disk.js';
import { demoProject } from '../helpers/project.js';
import { makeRepo } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

function project() {
  const root = tempDir();
  const repo = join(root, 'repo');
  makeRepo(repo, demoProject());
  return { root, repo, home: join(root, 'home') };
}

describe.skipIf(smallDisksUnavailable)(
  `full and read-only disks${smallDisksUnavailable ? ` (skipped: ${smallDisksUnavailable})` : ''}`,
  () => {
    it('a KILN_HOME that fills up while a step’s outputs are stored is KILN_DISK_FULL, not a failed step', () => {
      const { repo, home } = project();
      const r = kilnOnSmallDisks(['build', '--runner', 'host'], {
        cwd: repo,
        home,
        disks: [{ dir: home, size: '256k' }],
      });
      expect(r.stderr).not.toMatch(/internal error|KILN_STEP_FAILED|cannot rollback/);
      expect(r.stderr).toMatch(
        /KILN_DISK_FULL: step compile ran \(its command exited 0\), but no space left on the device writing the outputs of step compile into .*home\/cache\n/,
      );
      expect(r.status).toBe(4);
    });

    it('an empty read-only KILN_HOME is KILN_IO naming it, not a stack trace', () => {
      const { repo, home } = project();
      const disks = [{ dir: home, size: '1m', readOnly: true }];
      const r = kilnOnSmallDisks(['build', '--runner', 'host'], { cwd: repo, home, disks });
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(r.stderr).toMatch(/KILN_IO: .*home\/\S+ is on a read-only file system/);
      expect(r.stderr).toMatch(/hint: .*KILN_HOME/);
      expect(r.status).toBe(4);
    });
  },
);
