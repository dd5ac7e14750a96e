// `kiln builds` and `kiln show`: what the provenance store recorded.
import { KilnError } from '../core/errors.js';
import { processGone } from '../platform/processes.js';
import {
  type BuildDetail,
  type BuildRef,
  type BuildRow,
  buildsNamedBy,
  getBuild,
  type Store,
  settleAbandonedBuilds as settleInStore,
  listBuilds as storedBuilds,
} from '../store/index.js';
import type { KilnPorts } from './ports.js';

/** Recorded builds, newest first. */
export async function listBuilds(
  ports: Pick<KilnPorts, 'store' | 'events' | 'now'>,
  opts: { readonly limit: number; readonly project?: string | undefined },
): Promise<BuildRow[]> {
  const store = await ports.store();
  await settleAbandonedBuilds(ports, store);
  return storedBuilds(store, {
    limit: opts.limit,
    ...(opts.project === undefined ? {} : { project: opts.project }),
  });
}

/**
 * One build with its steps, artifacts and evidence, named by its id, the commit it built or the digest of an
 * artifact it made (each in full or by a unique prefix). A commit or digest several builds share names the newest
 * of them; a notice lists the others.
 */
export async function showBuild(ports: Pick<KilnPorts, 'store' | 'events' | 'now'>, ref: string): Promise<BuildDetail> {
  const store = await ports.store();
  await settleAbandonedBuilds(ports, store);
  const refs = await buildsNamedBy(store, ref);
  const chosen = refs.find((r) => r.kind === 'build' && r.value === ref) ?? (refs.length === 1 ? refs[0] : undefined);
  if (!chosen) {
    if (refs.length === 0) {
      throw new KilnError('KILN_NOT_FOUND', `no build has the id, commit or artifact digest "${ref}"`, {
        hint: 'list builds with `kiln builds`; give a build id, a commit SHA or an artifact digest (sha256:…), or a prefix of one',
      });
    }
    const shown = refs.slice(0, 10).map(describeRef);
    if (refs.length > 10) shown.push(`… (${refs.length} in all)`);
    throw new KilnError('KILN_USAGE', `"${ref}" names more than one thing:\n${shown.map((l) => `  ${l}`).join('\n')}`, {
      hint: 'give more characters, or one of the build ids listed',
    });
  }
  const [newest, ...others] = chosen.buildIds as [string, ...string[]];
  if (others.length > 0) {
    ports.events({
      kind: 'notice',
      message: `${chosen.kind} ${chosen.value} was built by ${chosen.buildIds.length} builds; showing the newest, ${newest} (others: ${others.join(', ')})`,
    });
  }
  const detail = await getBuild(store, newest);
  if (!detail) throw new KilnError('KILN_NOT_FOUND', `build ${newest} is no longer recorded`, { hint: 'run it again' });
  return detail;
}

function describeRef(r: BuildRef): string {
  if (r.kind === 'build') return `build ${r.value}`;
  return `${r.kind} ${r.value} (build${r.buildIds.length > 1 ? 's' : ''} ${r.buildIds.join(', ')})`;
}

/**
 * Marks failed the `running` builds whose process is gone (killed, crashed, out of disk before it could record its
 * end), with a notice. A store that cannot be written now (a full disk) is left as it is: the next call tries again.
 */
export async function settleAbandonedBuilds(ports: Pick<KilnPorts, 'events' | 'now'>, store: Store): Promise<void> {
  const error =
    'the build ended without recording its outcome: its process was killed or crashed, or the disk was full';
  const settled = await settleInStore(store, processGone, { at: ports.now(), error }).catch(() => []);
  if (settled.length > 0) {
    ports.events({
      kind: 'notice',
      message: `marked ${settled.length} unfinished build(s) failed: ${settled.join(', ')} (${error})`,
    });
  }
}
