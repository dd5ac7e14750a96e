// A worker's health as it reports it with every heartbeat: room left where builds write, and memory.
import { freeBytes } from '../platform/disk.js';
import { memoryUsage } from '../platform/processes.js';
import { workRoot } from '../platform/workdir.js';
import type { KilnPorts } from './ports.js';

/** Free bytes where build work dirs and the local cache live (null when unknown), and memory in bytes. */
export interface MachineHealth {
  readonly workDir: string;
  readonly workFreeBytes: number | null;
  readonly cacheDir: string;
  readonly cacheFreeBytes: number | null;
  readonly memFreeBytes: number;
  readonly memTotalBytes: number;
  readonly rssBytes: number;
}

/** This machine's health, for the Kiln home of `ports`. */
export async function machineHealth(ports: Pick<KilnPorts, 'home' | 'env' | 'cache'>): Promise<MachineHealth> {
  const workDir = await workRoot(ports.home, ports.env);
  const cacheDir = ports.cache.localDir;
  const [workFreeBytes, cacheFreeBytes] = await Promise.all([freeBytes(workDir), freeBytes(cacheDir)]);
  const memory = memoryUsage();
  return {
    workDir,
    workFreeBytes,
    cacheDir,
    cacheFreeBytes,
    memFreeBytes: memory.freeBytes,
    memTotalBytes: memory.totalBytes,
    rssBytes: memory.rssBytes,
  };
}
