// Throwaway PostgreSQL 15 clusters on 127.0.0.1 for the tests: initdb once into a cached template, copied per cluster
// (~4 s saved each time), started with pg_ctl on a random free port, stopped and deleted at the end of the test file
// (also when a test failed, and at process exit). Missing binaries fail the test with what to install: never a skip.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { openSqliteStore, openStore, type Store } from '../../src/store/index.js';
import { tempDir } from './tmp.js';

/** Where Debian's postgresql-15 package puts the server binaries (KILN_TEST_PG_BIN elsewhere). */
export const PG_BIN = process.env.KILN_TEST_PG_BIN || '/usr/lib/postgresql/15/bin';
const TEMPLATE = join(tmpdir(), 'kiln-test-pg15-template-v1');
const asRoot = process.getuid?.() === 0;

/** A running cluster: `createDatabase` makes a fresh, empty database and returns its URL. */
export interface PostgresCluster {
  readonly port: number;
  readonly dataDir: string;
  createDatabase(): Promise<string>;
  stop(): void;
}

const running = new Set<PostgresCluster>();
process.on('exit', () => {
  for (const cluster of running) cluster.stop();
});

/** Runs a PostgreSQL binary as the `postgres` user when this process is root (the server refuses to run as root). */
function pgRun(bin: string, args: readonly string[]): void {
  const [cmd, argv] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args]]
    : [join(PG_BIN, bin), args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
}

function ownedByPostgres(path: string): void {
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', path]);
}

/** The initdb'd data directory all clusters copy, made once per machine. */
function template(): string {
  if (!existsSync(join(PG_BIN, 'initdb')) || !existsSync(join(PG_BIN, 'pg_ctl'))) {
    throw new Error(
      `PostgreSQL 15 is not installed (no ${PG_BIN}/initdb): the store and queue tests need it. ` +
        'Install it with scripts/setup-system.sh (apt-get install postgresql-15), or set KILN_TEST_PG_BIN.',
    );
  }
  if (existsSync(join(TEMPLATE, 'PG_VERSION'))) return TEMPLATE;
  const parent = mkdtempSync(join(tmpdir(), 'kiln-test-pg-init-'));
  chmodSync(parent, 0o755);
  const dir = join(parent, 'data');
  ownedByPostgres(parent);
  pgRun('initdb', ['-D', dir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
  try {
    renameSync(dir, TEMPLATE); // another test file may have won: then its copy is as good
  } catch {}
  rmSync(parent, { recursive: true, force: true });
  return TEMPLATE;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Starts a fresh cluster (a copy of the template) on a free port of 127.0.0.1. */
export async function startPostgres(): Promise<PostgresCluster> {
  const source = template();
  const parent = mkdtempSync(join(tmpdir(), 'kiln-test-pg-'));
  chmodSync(parent, 0o755);
  const dataDir = join(parent, 'data');
  cpSync(source, dataDir, { recursive: true });
  chmodSync(dataDir, 0o700);
  ownedByPostgres(parent);
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${parent} -c fsync=off -c max_connections=200`;
      pgRun('pg_ctl', ['-D', dataDir, '-l', join(parent, 'log'), '-o', options, '-w', 'start']);
      break;
    } catch (err) {
      if (attempt >= 3) {
        rmSync(parent, { recursive: true, force: true });
        throw err;
      }
    }
  }
  let databases = 0;
  let stopped = false;
  const cluster: PostgresCluster = {
    port,
    dataDir,
    async createDatabase() {
      const name = `kiln_${++databases}_${randomBytes(3).toString('hex')}`;
      const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      running.delete(cluster);
      try {
        pgRun('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    },
  };
  running.add(cluster);
  return cluster;
}

/** One cluster for the calling test file, started on first use and stopped after its last test. */
export function fileCluster(): () => Promise<PostgresCluster> {
  let started: Promise<PostgresCluster> | undefined;
  afterAll(async () => {
    const cluster = await started?.catch(() => undefined);
    cluster?.stop();
  });
  return () => {
    started ??= startPostgres();
    return started;
  };
}

/** How a test gets stores of one dialect: a fresh location (SQLite file or database URL), opened as Kiln would. */
export interface StoreDialectFactory {
  readonly name: 'SQLite' | 'PostgreSQL';
  /** A location nothing has used yet. */
  location(): Promise<string>;
  /** Opens the store at `location` (openStore: migrating it on first open). */
  open(location: string): Promise<Store>;
  /** A fresh, opened store. */
  fresh(): Promise<Store>;
}

/** Both dialects, for `describe.each`: SQLite files in temp dirs, and databases of one cluster for the test file. */
export function storeDialects(): StoreDialectFactory[] {
  const cluster = fileCluster();
  const sqlite: StoreDialectFactory = {
    name: 'SQLite',
    location: async () => join(tempDir(), 'store.db'),
    open: openSqliteStore,
    fresh: async () => openSqliteStore(join(tempDir(), 'store.db')),
  };
  const postgres: StoreDialectFactory = {
    name: 'PostgreSQL',
    location: async () => (await cluster()).createDatabase(),
    open: openStore,
    fresh: async () => openStore(await (await cluster()).createDatabase()),
  };
  return [sqlite, postgres];
}

/** The rows of `query` in the database at `url`, read over a connection of its own. */
export async function rows<T extends pg.QueryResultRow>(url: string, query: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(query)).rows;
  } finally {
    await client.end();
  }
}
