// Runs git isolated from the user's global and system config, so neither can change the bytes Kiln checks out.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KilnError } from '../core/errors.js';

const execFileP = promisify(execFile);

/** The environment git runs with (PATH and HOME from the caller, plus anything like GIT_INDEX_FILE). */
export type GitEnv = Readonly<Record<string, string | undefined>>;

// ~/.gitconfig and /etc/gitconfig are ignored (no autocrlf, no global smudge filters such as LFS);
// line endings are checked out exactly as committed; `git replace` refs cannot swap the content of an object.
export const GIT_ISOLATION = {
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_NO_REPLACE_OBJECTS: '1',
  LC_ALL: 'C',
  GIT_TERMINAL_PROMPT: '0',
};
const FIXED_CONFIG = [
  '-c',
  'core.quotepath=off',
  '-c',
  'core.autocrlf=false',
  '-c',
  'core.eol=lf',
  '-c',
  'core.symlinks=true',
];

/** Runs `git args` in `cwd` and returns stdout; failures become KILN_SOURCE_GIT naming the command. */
export async function git(cwd: string, args: string[], env: GitEnv): Promise<string> {
  try {
    const { stdout } = await execFileP('git', [...FIXED_CONFIG, ...args], {
      cwd,
      env: { ...env, ...GIT_ISOLATION },
      maxBuffer: 256 * 1024 * 1024,
      encoding: 'utf8',
    });
    return stdout;
  } catch (cause) {
    const stderr = String((cause as { stderr?: string }).stderr ?? '').trim();
    throw new KilnError('KILN_SOURCE_GIT', `git ${args.join(' ')} failed in ${cwd}: ${stderr || String(cause)}`, {
      cause,
      hint: 'run kiln inside a git repository with at least one commit, or pass the path of one',
    });
  }
}
