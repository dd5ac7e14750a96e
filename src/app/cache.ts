// `kiln cache stats` and `kiln cache gc`: the local CAS in the Kiln home, looked after by hand.
import { LocalCas } from '../cache/index.js';
import type { CasStats, GcResult } from '../cache/local/gc.js';
import type { KilnPorts } from './ports.js';

/** The local cache's directory, counts, bytes and access-time range. */
export async function cacheStats(ports: Pick<KilnPorts, 'cache' | 'events'>): Promise<CasStats & { dir: string }> {
  const cas = localCas(ports);
  return { dir: cas.dir, ...(await cas.stats()) };
}

/** Evicts least-recently-used entries until the local cache holds at most `maxSizeBytes`. */
export function cacheGc(ports: Pick<KilnPorts, 'cache' | 'events'>, maxSizeBytes: number): Promise<GcResult> {
  return localCas(ports).gc({ maxSizeBytes });
}

function localCas(ports: Pick<KilnPorts, 'cache' | 'events'>): LocalCas {
  return new LocalCas({
    dir: ports.cache.localDir,
    onWarning: (message) => ports.events({ kind: 'warning', message }),
  });
}
