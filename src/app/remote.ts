// Commits of remote repositories, through their mirrors in the Kiln home: what a build of one starts from, and what
// the service resolves a pushed or requested ref to before it queues a build (the queue deduplicates by commit).
import { fetchRemoteCommit, type RemoteSource, type SourceRef } from '../source/index.js';
import type { KilnPorts } from './ports.js';

/** The commit of a remote repository, from its mirror in the Kiln home (fetched first: a stage the user sees). */
export function fetchRemote(
  ports: Pick<KilnPorts, 'env' | 'events' | 'home'>,
  remote: RemoteSource,
): Promise<SourceRef> {
  return fetchRemoteCommit(remote, {
    mirrorsDir: ports.home.mirrors,
    env: { PATH: ports.env.PATH },
    onFetch: (url) => ports.events({ kind: 'stage', stage: 'source', detail: `fetching ${url}` }),
    onWarning: (message) => ports.events({ kind: 'warning', message }),
  });
}

/** What a ref of a remote repository is now: its exact commit, the branch it names (if it names one), the URL. */
export async function resolveRemote(
  ports: Pick<KilnPorts, 'env' | 'events' | 'home'>,
  remote: RemoteSource,
): Promise<{ readonly commit: string; readonly branch: string | null; readonly repository: string }> {
  const source = await fetchRemote(ports, remote);
  return { commit: source.commit, branch: source.branch, repository: source.repoUrl };
}
