// `kiln builds` and `kiln show`: what the provenance store recorded.
import { KilnError } from '../core/errors.js';
import { type BuildDetail, type BuildRow, getBuild, listBuilds as storedBuilds } from '../store/index.js';
import type { KilnPorts } from './ports.js';

/** Recorded builds, newest first. */
export async function listBuilds(
  ports: Pick<KilnPorts, 'store'>,
  opts: { readonly limit: number; readonly project?: string | undefined },
): Promise<BuildRow[]> {
  return storedBuilds(await ports.store(), {
    limit: opts.limit,
    ...(opts.project === undefined ? {} : { project: opts.project }),
  });
}

/** One build (an id or a unique prefix of one) with its steps, artifacts and evidence. */
export async function showBuild(ports: Pick<KilnPorts, 'store'>, id: string): Promise<BuildDetail> {
  const detail = await getBuild(await ports.store(), id);
  if (!detail)
    throw new KilnError('KILN_NOT_FOUND', `no build with id "${id}"`, { hint: 'list ids with `kiln builds`' });
  return detail;
}
