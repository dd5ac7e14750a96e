// git against a remote: credentials only in the environment of the one git process that needs them, never in argv,
// a config file or a URL; prompts off; slow transfers cut off; every secret scrubbed from what git says.
import { execFile } from 'node:child_process';
import { KilnError } from '../core/errors.js';
import { GIT_ISOLATION, type GitEnv } from './git.js';
import type { GitCredentials } from './remote-url.js';

/** A transfer slower than 1 KiB/s for a minute is abandoned; a whole clone or fetch gets at most an hour. */
const NETWORK_CONFIG: Readonly<Record<string, string>> = {
  'http.lowSpeedLimit': '1024',
  'http.lowSpeedTime': '60',
  'gc.auto': '0', // a fetch never prunes objects a concurrent build is reading
  'protocol.version': '2',
  'credential.helper': '',
  'core.askPass': '',
};
const NETWORK_TIMEOUT_MS = 60 * 60_000;

/** The environment for a git process that talks to `url`: config through GIT_CONFIG_* variables, never files. */
export function remoteGitEnv(env: GitEnv, credentials: GitCredentials | undefined): Record<string, string> {
  const config = Object.entries(NETWORK_CONFIG);
  if (credentials) config.push(['http.extraHeader', `Authorization: Basic ${basic(credentials)}`]);
  const vars: Record<string, string> = {
    ...(env.PATH === undefined ? {} : { PATH: env.PATH }),
    ...GIT_ISOLATION,
    GIT_ALLOW_PROTOCOL: 'file:http:https:git',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_CONFIG_COUNT: String(config.length),
  };
  config.forEach(([key, value], i) => {
    vars[`GIT_CONFIG_KEY_${i}`] = key;
    vars[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return vars;
}

/** Runs `git args` (no secret in them) against the network; a failure is KILN_SOURCE_GIT naming `url`, scrubbed. */
export function remoteGit(
  cwd: string,
  args: readonly string[],
  opts: { url: string; env: GitEnv; credentials: GitCredentials | undefined; what: string },
): Promise<string> {
  return new Promise((done, fail) => {
    execFile(
      'git',
      [...args],
      {
        cwd,
        env: remoteGitEnv(opts.env, opts.credentials),
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        timeout: NETWORK_TIMEOUT_MS,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        if (!error) return done(stdout);
        const said = scrub(String(stderr).trim() || error.message, opts.credentials);
        fail(
          new KilnError('KILN_SOURCE_GIT', `${opts.what} ${opts.url} failed: ${said}`, {
            hint: authFailed(said)
              ? `check the credentials given for ${opts.url} (user name and password or token)`
              : `check that ${opts.url} is a git repository this machine can reach`,
          }),
        );
      },
    );
  });
}

/** `text` with the password, the Basic token and their encodings replaced by `***`. */
export function scrub(text: string, credentials: GitCredentials | undefined): string {
  if (!credentials) return text;
  const secrets = [
    basic(credentials),
    credentials.password,
    encodeURIComponent(credentials.password),
    Buffer.from(credentials.password).toString('base64'),
  ].filter((s) => s.length >= 3);
  let out = text;
  for (const s of secrets.sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}

function basic(credentials: GitCredentials): string {
  return Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
}

function authFailed(said: string): boolean {
  return /Authentication failed|401|403|could not read Username|terminal prompts disabled/i.test(said);
}
