// The configuration a farm runs by. `kiln serve` publishes its kiln-server.yaml in the store it shares; a
// `kiln worker` started on any machine reads it there, so every process leasing jobs decides by the same priority
// classes and limits, and writes the same notifications, without a copy of the file of its own.
import { parseServerConfig, type ServerConfig } from '../config/index.js';
import { isKilnError, KilnError } from '../core/errors.js';
import { farmConfig, publishFarmConfig, type Store } from '../store/index.js';
import type { StoreQueueOptions } from './store-queue.js';

/** The queue rules kiln-server.yaml sets: classes, the global limit, and each project's. */
export function queueRulesOf(
  config: ServerConfig,
): Pick<StoreQueueOptions, 'classes' | 'global' | 'perProject' | 'projects'> {
  return {
    classes: config.classes,
    global: config.concurrency,
    perProject: 1,
    projects: Object.fromEntries(config.projects.map((p) => [p.name, p.concurrency])),
  };
}

/** Publishes the configuration `text` (read from `file`, absolute) for the workers sharing `store`. */
export function publishConfig(store: Store, text: string, file: string, at: Date): Promise<void> {
  return publishFarmConfig(store, { text, file, updatedAt: at.toISOString() });
}

/** The configuration published in `store`, validated as the file is; KILN_NOT_FOUND when no server has published. */
export async function publishedConfig(store: Store): Promise<ServerConfig & { readonly publishedAt: string }> {
  const row = await farmConfig(store);
  if (!row) {
    throw new KilnError('KILN_NOT_FOUND', 'no kiln serve has published its kiln-server.yaml in this store yet', {
      hint: 'start `kiln serve --config kiln-server.yaml` on the same store (KILN_HOME, or --database) first',
    });
  }
  try {
    return { ...parseServerConfig(row.text, row.file), publishedAt: row.updatedAt };
  } catch (err) {
    if (!isKilnError(err, 'KILN_CONFIG_INVALID')) throw err;
    throw new KilnError(
      'KILN_CONFIG_INVALID',
      `the kiln-server.yaml published in the store is not valid here: ${err.message}`,
      {
        cause: err,
        hint: 'a newer Kiln published it? Run the same Kiln version on the server and its workers',
      },
    );
  }
}
