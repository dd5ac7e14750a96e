// `kiln worker`: builds the queue's jobs on this machine, for the `kiln serve` whose store it shares, until SIGINT or
// SIGTERM, which drain (the builds that run end, no new one starts).
import { hostname as machineName } from 'node:os';
import { join } from 'node:path';
import { isKilnError, KilnError } from '../core/errors.js';
import { publishedConfig, queueRulesOf } from '../farm/farm-config.js';
import type { Labels } from '../farm/job.js';
import { notificationOutbox } from '../farm/notify.js';
import { readAllSecrets } from '../farm/secrets.js';
import { storeQueue } from '../farm/store-queue.js';
import { WORKER_REPORT_MS, workerPool } from '../farm/worker.js';
import { parseCommandArgs } from './args.js';
import { type CliContext, println } from './context.js';
import { checkedDatabase } from './database.js';
import { withKiln } from './kiln.js';
import { jobAttemptLog, logFormatOf, serviceLog } from './service-log.js';

const HELP = `usage: kiln worker [--labels KEY=VALUE,…] [--concurrency N] [--database postgres://…]
                   [--log-format text|json]

Builds the jobs that \`kiln serve --config\` queues in its store, on this machine, until SIGINT or
SIGTERM: then no new build starts, the builds that run end, and it exits. The store is the
PostgreSQL database of --database (else KILN_DATABASE), which servers and workers on any number
of machines share, or else the SQLite store of KILN_HOME (this machine only). It runs N builds at
once (--concurrency, default 1) and leases only the jobs whose required labels it has (--labels
arch=x64,big: a label without a value is "true"). It decides by the kiln-server.yaml the server
published in the store, and waits for one when there is none yet.

Builds sign with KILN_SIGNING_KEY or this home's key, outside the sandbox. A project's git
credentials are read here, from the environment variable or file kiln-server.yaml names. Every
${WORKER_REPORT_MS / 1000} s and at each change, a worker reports its state and health (free bytes
where builds and the cache write, memory) to the store: GET /v1/workers on the server shows them.
A worker killed mid-build loses its lease when the lease expires, and the job is built again by
another worker.

--log-format json writes one JSON object per line on stderr (time, level, service, msg, and jobId,
attempt, step, stream, workerId where a line is about one), every line of every build's log
included; in both formats the secrets it reads are replaced by [redacted].`;

/** Builds jobs until the process is asked to stop. */
export async function workerCommand(ctx: CliContext, argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    'worker',
    argv,
    {
      labels: { type: 'string' },
      concurrency: { type: 'string' },
      database: { type: 'string' },
      'log-format': { type: 'string' },
    },
    0,
  );
  if (values.help) {
    println(ctx.stdout, HELP);
    return 0;
  }
  const labels = parseLabels(values.labels ?? '');
  const count = values.concurrency === undefined ? 1 : concurrencyOf(values.concurrency);
  const database = checkedDatabase('--database', values.database); // else KILN_DATABASE (withKiln)
  const { log, secrets, format } = serviceLog(ctx, logFormatOf(values['log-format'], 'worker'), 'kiln-worker');
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  process.once('SIGINT', () => stop());
  process.once('SIGTERM', () => stop());
  await withKiln(ctx, { lines: true, database }, async (kiln, ports) => {
    await kiln.ready();
    const store = await ports.store();
    const config = await waitForConfig(() => publishedConfig(store), stopped, log);
    if (config === undefined) return; // asked to stop while waiting
    await readAllSecrets(config, secrets);
    const queue = storeQueue(store, {
      ...queueRulesOf(config),
      // Where this worker's builds deliver: the published event names it.
      onChange: notificationOutbox({
        config,
        host: machineName(),
        artifactTarget: { name: ports.artifacts.name, layoutDir: ports.artifacts.layoutDir },
      }),
    });
    const pool = workerPool({
      kiln,
      queue,
      store,
      secrets,
      deliveryDir: join(ports.home.home, 'worker', 'out'),
      version: ctx.version,
      leaseMs: config.leaseMs,
      labels,
      log,
      attemptLog: jobAttemptLog(store, { log, format }),
    });
    const ids = pool.start(count);
    const shown = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    log(
      `building on ${count} worker(s) (${ids.join(', ')})${shown.length > 0 ? ` labelled ${shown.join(',')}` : ''}, by the kiln-server.yaml published ${config.publishedAt}`,
    );
    await stopped;
    log('stopping: no new build starts; waiting for the builds that run');
    await pool.drain();
  });
  return 0;
}

/** The published configuration, waited for (polling) until there is one; undefined when stopped first. */
async function waitForConfig<T>(
  read: () => Promise<T>,
  stopped: Promise<void>,
  log: (message: string) => void,
): Promise<T | undefined> {
  let said = false;
  let halt = false;
  void stopped.then(() => {
    halt = true;
  });
  while (!halt) {
    try {
      return await read();
    } catch (err) {
      if (!isKilnError(err, 'KILN_NOT_FOUND')) throw err;
      if (!said) log(`waiting: ${err.message} (${err.hint})`);
      said = true;
    }
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 1_000))]);
  }
  return undefined;
}

/** `arch=x64,big` → { arch: "x64", big: "true" }. */
export function parseLabels(text: string): Labels {
  const labels: Record<string, string> = {};
  for (const item of text.split(',').map((s) => s.trim())) {
    if (item === '') continue;
    const [key = '', ...rest] = item.split('=');
    if (!/^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/.test(key) || key in labels) {
      throw new KilnError('KILN_USAGE', `--labels: "${item}" is not KEY or KEY=VALUE with a new key`, {
        hint: 'e.g. --labels arch=x64,big (keys: letters, digits, . _ / -; each once)',
      });
    }
    labels[key] = rest.length === 0 ? 'true' : rest.join('=');
  }
  return labels;
}

function concurrencyOf(text: string): number {
  if (!/^[1-9]\d{0,2}$/.test(text)) {
    throw new KilnError('KILN_USAGE', `--concurrency must be a whole number from 1 to 999, got "${text}"`, {
      hint: 'e.g. --concurrency 2: this worker then runs two builds at once',
    });
  }
  return Number(text);
}
