// Runs git with a fixed, minimal environment so user config cannot change what Kiln sees.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KilnError } from '../core/errors.js';

const execFileP = promisify(execFile);

/** The environment git runs with (PATH and HOME from the caller, plus anything like GIT_INDEX_FILE). */
export type GitEnv = Readonly<Record<string, string | undefined>>;

/** Runs `git args` in `cwd` and returns stdout; failures become E_SOURCE_GIT naming the command. */
export async function git(cwd: string, args: string[], env: GitEnv): Promise<string> {
  try {
    const { stdout } = await execFileP('git', ['-c', 'core.quotepath=off', ...args], {
      cwd,
      env: { ...env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' },
      maxBuffer: 256 * 1024 * 1024,
      encoding: 'utf8',
    });
    return stdout;
  } catch (cause) {
    const stderr = String((cause as { stderr?: string }).stderr ?? '').trim();
    throw new KilnError('E_SOURCE_GIT', `git ${args.join(' ')} failed in ${cwd}: ${stderr || String(cause)}`, {
      cause,
      hint: 'run kiln inside a git repository with at least one commit, or pass the path of one',
    });
  }
}
