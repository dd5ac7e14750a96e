// `kiln db import`: OSV records from a directory or zip into the store, in batches, each batch all or nothing.
import { canonicalJson } from '../core/json.js';
import { packageKey } from '../ecosystems/ecosystem.js';
import { readOsvRecords } from '../scan/osv/read.js';
import type { OsvRecord } from '../scan/osv/types.js';
import {
  beginOsvImport,
  finishOsvImport,
  type OsvRow,
  type OsvUpsertCounts,
  type Store,
  upsertOsvRecords,
} from '../store/index.js';

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

/**
 * Imports every record of `source`. A crash between batches leaves the batches before it, each record whole;
 * running the import again completes it (a record already stored is unchanged).
 */
export async function importOsv(
  store: Store,
  source: string,
  opts: { now: () => Date; onProgress?: (seen: number) => void },
): Promise<ImportReport> {
  const seq = await beginOsvImport(store, source, opts.now().toISOString());
  const counts: OsvUpsertCounts = { added: 0, updated: 0, unchanged: 0 };
  const rejected: { origin: string; problems: readonly string[] }[] = [];
  let batch: OsvRow[] = [];
  let seen = 0;
  const flush = async () => {
    const done = await upsertOsvRecords(store, seq, batch);
    counts.added += done.added;
    counts.updated += done.updated;
    counts.unchanged += done.unchanged;
    batch = [];
    opts.onProgress?.(seen);
  };
  for await (const item of readOsvRecords(source)) {
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
  return { source, ...counts, rejected };
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
