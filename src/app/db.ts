// `kiln db import` and `kiln db status`: OSV records from a directory or zip into the store, in batches, each batch
// all or nothing; and what the store holds.
import { resolve } from 'node:path';
import { canonicalJson } from '../core/json.js';
import { packageKey } from '../ecosystems/ecosystem.js';
import { scanDatabase } from '../scan/database.js';
import { readOsvRecords } from '../scan/osv/read.js';
import type { OsvRecord } from '../scan/osv/types.js';
import {
  beginOsvImport,
  finishOsvImport,
  type OsvRow,
  type OsvUpsertCounts,
  upsertOsvRecords,
} from '../store/index.js';
import type { KilnPorts } from './ports.js';

/** What an import did; rejected records are listed with every problem, never skipped in silence. */
export interface ImportReport {
  readonly source: string;
  readonly added: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly rejected: readonly { readonly origin: string; readonly problems: readonly string[] }[];
}

/** Records per transaction: large enough to be fast, small enough not to hold the store's write lock for long. */
const BATCH = 1000;

/** Records per `progress` event. */
const PROGRESS_EVERY = 5000;

/**
 * Imports every record of `source` (a directory, zip or JSON file; relative to the caller's directory). A crash
 * between batches leaves the batches before it, each record whole; running the import again completes it (a record
 * already stored is unchanged).
 */
export async function importVulnerabilities(
  ports: Pick<KilnPorts, 'store' | 'now' | 'events' | 'cwd'>,
  source: string,
): Promise<ImportReport> {
  const path = resolve(ports.cwd, source);
  const store = await ports.store();
  const seq = await beginOsvImport(store, path, ports.now().toISOString());
  const counts: OsvUpsertCounts = { added: 0, updated: 0, unchanged: 0 };
  const rejected: { origin: string; problems: readonly string[] }[] = [];
  let batch: OsvRow[] = [];
  let seen = 0;
  let reported = 0;
  const flush = async () => {
    const done = await upsertOsvRecords(store, seq, batch);
    counts.added += done.added;
    counts.updated += done.updated;
    counts.unchanged += done.unchanged;
    batch = [];
    if (seen - reported >= PROGRESS_EVERY) {
      reported = seen;
      ports.events({ kind: 'progress', task: 'db-import', done: seen });
    }
  };
  for await (const item of readOsvRecords(path)) {
    seen++;
    if (item.kind === 'rejected') {
      rejected.push({ origin: item.origin, problems: item.problems });
      continue;
    }
    batch.push(rowOf(item.record, item.origin));
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  await finishOsvImport(store, seq, { ...counts, rejected: rejected.length });
  return { source: path, ...counts, rejected };
}

/** What vulnerability data the store holds: how many records, their revision, when they were last imported. */
export async function vulnerabilityData(ports: Pick<KilnPorts, 'store'>) {
  return scanDatabase(await ports.store());
}

/** RFC 3339 times in one form (UTC, milliseconds), so they order as text whatever precision a record used. */
function instant(time: string): string {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? time : new Date(ms).toISOString();
}

function rowOf(record: OsvRecord, origin: string): OsvRow {
  return {
    id: record.id,
    modified: instant(record.modified),
    withdrawn: record.withdrawn ?? null,
    body: canonicalJson(record),
    origin,
    packages: (record.affected ?? []).flatMap((a) =>
      a.package ? [{ ecosystem: a.package.ecosystem, name: packageKey(a.package.ecosystem, a.package.name) }] : [],
    ),
  };
}
