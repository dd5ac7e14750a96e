// Commits of remote repositories, through their mirrors in the Kiln home: what a build of one starts from, and what
// the service resolves a pushed or requested ref to before it queues a build (the queue deduplicates by commit).
import { fetchRemoteCommit, listRemoteRef, type RemoteSource, type SourceRef } from '../source/index.js';
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

/**
 * What a ref of a remote repository is now: its exact commit, the branch it names (if it names one), the URL. A
 * branch or tag name is asked of the remote (`git ls-remote`, no fetch: the worker that builds it fetches if its
 * mirror lacks the commit); anything else is resolved in the mirror, fetched first.
 */
export async function resolveRemote(
  ports: Pick<KilnPorts, 'env' | 'events' | 'home'>,
  remote: RemoteSource,
): Promise<{ readonly commit: string; readonly branch: string | null; readonly repository: string }> {
  const env = { PATH: ports.env.PATH };
  const listed = await listRemoteRef(remote, { mirrorsDir: ports.home.mirrors, env });
  if (listed) return { commit: listed.commit, branch: listed.branch, repository: listed.repoUrl };
  const source = await fetchRemote(ports, remote);
  return { commit: source.commit, branch: source.branch, repository: source.repoUrl };
}
