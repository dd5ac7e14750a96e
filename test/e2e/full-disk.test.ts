// Full and read-only disks, made real with tmpfs mounts in a private namespace (test/helpers/full-disk.ts): each is
// reported as what it is, with a code and the place, never as a failed step or a stack trace.
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kilnOnSmallDisks, kilnRunsOnSmallDisks, smallDisksUnavailable } from '../helpers/full-disk.js';
import { DEMO_KILN_YAML, demoProject } from '../helpers/project.js';
import { git, kiln, makeRepo, writeFiles } from '../helpers/repo.js';
import { tempDir } from '../helpers/tmp.js';

function project() {
  const root = tempDir();
  const repo = join(root, 'repo');
  makeRepo(repo, demoProject());
  return { root, repo, home: join(root, 'home') };
}

/** The demo project with 2 MiB of random bytes (incompressible) in its artifact. */
function bigArtifactProject() {
  const root = tempDir();
  const repo = join(root, 'repo');
  const yaml = DEMO_KILN_YAML.replace(
    'cp package.json out/ &&',
    'cp package.json out/ && head -c 2097152 /dev/urandom > out/big.bin &&',
  );
  makeRepo(repo, demoProject({ 'kiln.yaml': yaml }));
  return { root, repo, home: join(root, 'home') };
}

describe.skipIf(smallDisksUnavailable)(
  `full and read-only disks${smallDisksUnavailable ? ` (skipped: ${smallDisksUnavailable})` : ''}`,
  () => {
    it('a KILN_HOME that fills up while a step’s outputs are stored is KILN_DISK_FULL, not a failed step', () => {
      const { repo, home } = bigArtifactProject();
      // The store (about 240 KiB once migrated), keys and memos fit in 1 MiB; the step's 2 MiB of random bytes cannot.
      const r = kilnOnSmallDisks(['build', '--runner', 'host'], {
        cwd: repo,
        home,
        disks: [{ dir: home, size: '1m' }],
      });
      expect(r.stderr).not.toMatch(/internal error|KILN_STEP_FAILED|cannot rollback/);
      expect(r.stderr).toMatch(
        /KILN_DISK_FULL: step compile ran \(its command exited 0\), but no space left on the device writing the outputs of step compile into .*home\/cache\n/,
      );
      expect(r.status).toBe(4);
    });

    it('a KILN_HOME that fills up while the artifacts are published to its OCI layout is KILN_DISK_FULL there', () => {
      const { repo, home } = bigArtifactProject();
      // No local cache: the first write of the artifact's 2 MiB into the home is its publication to the OCI layout.
      const r = kilnOnSmallDisks(['build', '--runner', 'host', '--cache', 'local:off,remote:off'], {
        cwd: repo,
        home,
        disks: [{ dir: home, size: '1m' }],
      });
      expect(r.stderr).toMatch(/publish: OCI layout/);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(r.stderr).toMatch(/KILN_DISK_FULL: no space left on the device writing .*home\/oci/);
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

    it('a build that fails after filling its KILN_HOME to the last byte is still recorded as failed', () => {
      const root = tempDir();
      const repo = join(root, 'repo');
      const home = join(root, 'home');
      // The host runner does not confine steps: `fill` fills the home's disk completely, then fails. The 3,000 steps
      // after it are skipped, and their rows make the failed build's record larger than the room the store's files
      // have (its write-ahead log keeps the size the migrations gave it: with 14 migrations, 800 steps' rows still
      // fitted and 1,500 did not; more migrations may need more steps).
      const waiting = Array.from(
        { length: 3000 },
        (_, i) => `  waits-for-the-filler-${String(i).padStart(4, '0')}:\n    run: 'true'\n    needs: [fill]\n`,
      );
      const fill = `  fill:\n    run: cat /dev/zero > ${home}/filler 2>/dev/null; exit 3\n    outputs: [out]\n`;
      const yaml = `name: demo\nsteps:\n${fill}${waiting.join('')}artifacts:\n  - { name: demo, from: fill, path: out }\n`;
      makeRepo(repo, demoProject({ 'kiln.yaml': yaml }));
      const [build, listing] = kilnRunsOnSmallDisks(
        [
          ['build', '--runner', 'host'],
          ['builds', '--json'],
        ],
        {
          cwd: repo,
          home,
          disks: [{ dir: home, size: '1m' }],
        },
      );
      expect(build?.stderr).not.toMatch(/internal error|\n\s+at /);
      const [attempt, ...others] = JSON.parse(listing?.stdout ?? '[]');
      expect(others).toEqual([]);
      expect(attempt).toMatchObject({ status: 'failed' });
      expect(build?.stderr).toContain(`recorded the failed build ${attempt.id} without its steps: no space left`);
    });

    it('an output directory that fills up during a rebuild keeps the earlier build whole, and says so', () => {
      const { root, repo, home } = project();
      expect(kiln(['build', '--runner', 'host'], { cwd: repo, home }).status).toBe(0);
      const out = join(repo, 'kiln-out');
      const seed = join(root, 'seed');
      cpSync(out, seed, { recursive: true });
      writeFiles(repo, { 'src/util.js': 'export const twice = (x) => x + x;\n' });
      git(repo, ['commit', '-qam', 'change the artifact'], '2024-05-02T00:00:00Z');
      // Room for what is there and a little more: not for a second set, nor for the larger evidence files one by one.
      const usedKiB = Number(execFileSync('du', ['-sk', seed], { encoding: 'utf8' }).split('\t')[0]);
      const [rebuild, verify, listing] = kilnRunsOnSmallDisks(
        [
          ['build', '--runner', 'host'],
          ['verify', 'kiln-out/demo.tgz'],
          ['builds', '--json'],
        ],
        { cwd: repo, home, disks: [{ dir: out, size: `${usedKiB + 12}k`, seed }] },
      );
      expect(rebuild?.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(rebuild?.stderr).toMatch(/KILN_DISK_FULL: no space left on the device writing .*kiln-out/);
      expect(rebuild?.status).toBe(4);
      // The earlier build's artifact and evidence, untouched.
      expect(verify?.status).toBe(0);
      // The failed attempt is in the store too.
      expect(JSON.parse(listing?.stdout ?? '[]').map((b: { status: string }) => b.status)).toEqual([
        'failed',
        'succeeded',
      ]);
    });
  },
);
