// Identifies the toolchain steps run with (host runner: the resolved binaries and their versions).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** One tool as recorded in provenance. */
export interface ToolVersion {
  readonly name: string;
  readonly version: string;
}

/** Versions of node, npm and git as found on the steps' PATH; a missing tool is simply left out. */
export async function hostToolchain(env: Readonly<Record<string, string>>): Promise<ToolVersion[]> {
  const probes: [string, string[], (out: string) => string][] = [
    ['node', ['--version'], (o) => o.trim().replace(/^v/, '')],
    ['npm', ['--version'], (o) => o.trim()],
    ['git', ['--version'], (o) => o.trim().replace(/^git version /, '')],
  ];
  const found = await Promise.all(
    probes.map(async ([name, args, parse]) => {
      try {
        const { stdout } = await execFileP(name, args, { env: { ...env }, timeout: 30_000 });
        return { name, version: parse(stdout) };
      } catch {
        return undefined;
      }
    }),
  );
  return found.filter((t): t is ToolVersion => t !== undefined);
}
