// Before anything runs: the exact commit, its kiln.yaml, the working-tree check and the signing key.
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ResolvedSigner } from '../../attest/signing-key.js';
import { type KilnConfig, parseConfig } from '../../config/index.js';
import { KilnError } from '../../core/errors.js';
import { checkWorkingTree, locateProject, readAtCommit, type SourceRef } from '../../source/index.js';
import type { KilnPorts } from '../ports.js';
import { fetchRemote } from '../remote.js';
import type { BuildRequest } from './types.js';

/** Everything decided before the build starts. */
export interface PreparedBuild {
  readonly projectPath: string;
  readonly source: SourceRef;
  readonly config: KilnConfig;
  readonly configText: string;
  readonly signing: ResolvedSigner;
}

/** Resolves source and config (kiln.yaml as committed, or as in the working tree for --allow-dirty) and the key. */
export async function prepareBuild(
  req: Pick<BuildRequest, 'projectPath' | 'rev' | 'allowDirty' | 'key' | 'remote'>,
  ports: Pick<KilnPorts, 'cwd' | 'env' | 'signer' | 'events' | 'home'>,
): Promise<PreparedBuild> {
  const gitEnv = { PATH: ports.env.PATH };
  const projectPath = resolve(ports.cwd, req.projectPath);
  const remote = req.remote === undefined ? undefined : await fetchRemote(ports, req.remote);
  const at = remote ?? (await locateProject(projectPath, req.rev, gitEnv));
  const short = at.commit.slice(0, 12);
  const workingFile = join(projectPath, 'kiln.yaml');
  const [working, committed] = await Promise.all([
    remote ? undefined : fsp.readFile(workingFile, 'utf8').catch(() => undefined),
    readAtCommit(at, 'kiln.yaml', gitEnv),
  ]);
  const useWorking = at.isHead && req.allowDirty && working !== undefined;
  const configText = useWorking ? working : committed;
  if (configText === undefined) {
    throw new KilnError(
      'KILN_CONFIG_NOT_FOUND',
      `commit ${short} has no ${[at.subdir, 'kiln.yaml'].filter(Boolean).join('/')}`,
      {
        hint:
          working === undefined
            ? 'create a kiln.yaml in the project directory (docs/guide/kiln-yaml.md has examples) and commit it'
            : 'commit kiln.yaml: a build only uses what the commit contains (or pass --allow-dirty)',
      },
    );
  }
  const label = configText === working ? workingFile : `${[at.subdir, 'kiln.yaml'].filter(Boolean).join('/')}@${short}`;
  const config = parseConfig(configText, label);
  const source =
    remote ?? (await checkWorkingTree(at, { allowDirty: req.allowDirty, ignore: [config.output], env: gitEnv }));
  // A fetched kiln.yaml never chooses a key file of this machine: a repository could name any key the worker holds.
  if (remote && config.signing?.key !== undefined) {
    ports.events({
      kind: 'warning',
      message: `signing.key in the kiln.yaml of ${remote.repoUrl} is ignored: a remote repository never chooses a key of this machine (pass --key or set KILN_SIGNING_KEY)`,
    });
  }
  const configKey = remote ? undefined : config.signing?.key;
  const signing = await ports.signer({ flag: req.key, configKey, projectPath });
  if (signing.created) {
    const { defaultKey, defaultPub } = ports.home;
    ports.events({
      kind: 'notice',
      message: `created a local signing key ${defaultKey} (public key ${defaultPub}); keep the .key private and share the .pub with verifiers`,
    });
  }
  return { projectPath, source, config, configText, signing };
}
