// How `kiln serve` and `kiln worker` write about themselves: `--log-format text` (`kiln: …` lines) or `json` (one
// object per line: time, level, service, msg, and the job, build, step and worker a line is about; with json, every
// line of every build attempt too). Whatever the format, each line is redacted of every secret the process knows:
// those of kiln-server.yaml as they are read, and the credentials in its environment.
import { promises as fsp } from 'node:fs';
import { KilnError } from '../core/errors.js';
import { type Log, type LogFormat, logLine, Redactor } from '../core/log.js';
import type { Job } from '../farm/job.js';
import { type AttemptLog, type AttemptLogOptions, attemptLog } from '../farm/logs.js';
import { type CliContext, println } from './context.js';

/** Environment variables whose values are credentials (registries, git, the API, PostgreSQL). */
const SECRET_ENV = ['KILN_REGISTRY_PASSWORD', 'KILN_GIT_PASSWORD', 'KILN_TOKEN', 'PGPASSWORD'];

/** A long-running command's log, and the secret sources that teach its redactor. */
export interface ServiceLog {
  readonly log: Log;
  readonly format: LogFormat;
  readonly redactor: Redactor;
  /** Where kiln-server.yaml's secrets are read; every value read is redacted from then on. */
  readonly secrets: {
    readonly env: CliContext['env'];
    readonly readFile: (path: string) => Promise<string>;
    readonly onSecret: (value: string) => void;
  };
}

/** `--log-format` checked: text (the default) or json. */
export function logFormatOf(value: string | undefined, command: string): LogFormat {
  if (value === undefined || value === 'text' || value === 'json') return value ?? 'text';
  throw new KilnError('KILN_USAGE', `kiln ${command}: --log-format must be text or json, got "${value}"`, {
    hint: 'json writes one object per line (time, level, service, msg, jobId, buildId, step, workerId)',
  });
}

/** The log of `service` (`kiln-serve`, `kiln-worker`) on stderr. */
export function serviceLog(ctx: CliContext, format: LogFormat, service: string): ServiceLog {
  const redactor = new Redactor();
  for (const name of SECRET_ENV) {
    const value = ctx.env[name];
    if (value) redactor.add(value);
  }
  const log: Log = (message, fields) =>
    println(ctx.stderr, redactor.redact(logLine(format, service, new Date(), message, fields)));
  return {
    log,
    format,
    redactor,
    secrets: {
      env: ctx.env,
      readFile: (path: string) => fsp.readFile(path, 'utf8'),
      onSecret: (value) => redactor.add(value),
    },
  };
}

/** Each job attempt's log: its lines into the store and, with `json`, into this log too (job, step, worker). */
export function jobAttemptLog(
  store: AttemptLogOptions['store'],
  { log, format }: Pick<ServiceLog, 'log' | 'format'>,
): (job: Job) => AttemptLog {
  return (job) =>
    attemptLog({
      store,
      jobId: job.id,
      attempt: job.attempt,
      log,
      echo: format === 'json' ? log : undefined,
      workerId: job.workerId ?? undefined,
    });
}
