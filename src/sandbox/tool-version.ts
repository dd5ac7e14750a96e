// A builder tool's version as provenance and SBOMs record it. Most tools say it with `--version` (GNU coreutils,
// bash, python3, node, npm, git); some cannot (dash, the usual `sh`, has no version flag; BusyBox applets reject
// it), and then the Debian package that installed the binary says it. The version is a label: the tool's sha256,
// recorded beside it, is what identifies it.
import { execFile } from 'node:child_process';

/** The longest first line of `--version` output taken as it is (beyond that it is not a version line). */
const MAX_LINE = 200;

/**
 * The version of the tool at `real` (its resolved file), in order: the version in the first line of `tool
 * --version` (`bash --version` → `5.2.15(1)-release`); the Debian package holding the file (`dpkg:dash=0.5.12-2`);
 * the first 16 hex digits of the file's sha256 (`sha256:0123456789abcdef`).
 */
export async function toolVersion(tool: string, real: string, sha256: string, searchPath: string): Promise<string> {
  return (
    (await probedVersion(tool, searchPath)) ??
    (await packageVersion(real, searchPath)) ??
    `sha256:${sha256.slice(0, 16)}`
  );
}

/** The version token in the first line `tool --version` prints (stdout, or stderr for tools that print there). */
async function probedVersion(tool: string, searchPath: string): Promise<string | undefined> {
  const out = await run(tool, ['--version'], searchPath);
  if (!out.ok) return undefined;
  const line = (out.stdout.trim() || out.stderr.trim()).split('\n')[0]?.trim() ?? '';
  if (line === '' || line.length > MAX_LINE) return undefined;
  // `v20.20.2`, `11.19.1`, `git version 2.39.5`, `cp (GNU coreutils) 9.1`, `Python 3.11.2`: the first dotted number.
  return /\bv?\d+(?:\.\d+)+[^\s,;]*/.exec(line)?.[0];
}

/** `dpkg:<package>=<version>` of the Debian package whose file `real` is, if dpkg knows it. */
async function packageVersion(real: string, searchPath: string): Promise<string | undefined> {
  // On a merged-/usr system dpkg may know /usr/bin/dash as /bin/dash: ask for both names.
  const names = real.startsWith('/usr/') ? [real, real.slice('/usr'.length)] : [real];
  const owner = await run('dpkg-query', ['-S', ...names], searchPath);
  const pkg = /^([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9-]+)?: \//m.exec(owner.stdout)?.[1];
  if (!pkg) return undefined;
  const version = await run('dpkg-query', ['-W', pkg], searchPath); // `<package>\t<version>`
  const v = version.stdout.trim().split('\t')[1] ?? '';
  return version.ok && /^[\w.+:~-]+$/.test(v) ? `dpkg:${pkg}=${v}` : undefined;
}

/** Runs `cmd args` with stdin closed and a time limit; never rejects. */
function run(
  cmd: string,
  args: readonly string[],
  searchPath: string,
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(
      cmd,
      [...args],
      { env: { PATH: searchPath, LC_ALL: 'C' }, timeout: 10_000, maxBuffer: 64 * 1024 },
      (err, stdout, stderr) => done({ ok: !err, stdout: String(stdout), stderr: String(stderr) }),
    );
    child.stdin?.end();
  });
}
