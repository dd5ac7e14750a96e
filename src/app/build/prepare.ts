// Before anything runs: the exact commit, its kiln.yaml, the working-tree check and the signing key.
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ResolvedSigner, resolveSigner } from '../../attest/signing-key.js';
import { type KilnConfig, parseConfig } from '../../config/index.js';
import { KilnError } from '../../core/errors.js';
import type { KilnPaths } from '../../core/home.js';
import { checkWorkingTree, type GitEnv, locateProject, readAtCommit, type SourceRef } from '../../source/index.js';
import type { BuildEnvironment, BuildRequest } from './build.js';

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
  req: BuildRequest,
  world: BuildEnvironment,
  paths: KilnPaths,
  gitEnv: GitEnv,
): Promise<PreparedBuild> {
  const projectPath = resolve(world.cwd, req.projectPath);
  const at = await locateProject(projectPath, req.rev, gitEnv);
  const short = at.commit.slice(0, 12);
  const workingFile = join(projectPath, 'kiln.yaml');
  const [working, committed] = await Promise.all([
    fsp.readFile(workingFile, 'utf8').catch(() => undefined),
    readAtCommit(at, 'kiln.yaml', gitEnv),
  ]);
  const useWorking = at.isHead && req.allowDirty && working !== undefined;
  const configText = useWorking ? working : committed;
  if (configText === undefined) {
    throw new KilnError(
      'E_CONFIG_NOT_FOUND',
      `commit ${short} has no ${[at.subdir, 'kiln.yaml'].filter(Boolean).join('/')}`,
      {
        hint:
          working === undefined
            ? 'create a kiln.yaml in the project directory (see the README) and commit it'
            : 'commit kiln.yaml: a build only uses what the commit contains (or pass --allow-dirty)',
      },
    );
  }
  const label = configText === working ? workingFile : `${[at.subdir, 'kiln.yaml'].filter(Boolean).join('/')}@${short}`;
  const config = parseConfig(configText, label);
  const source = await checkWorkingTree(at, { allowDirty: req.allowDirty, ignore: [config.output], env: gitEnv });
  const signing = await resolveSigner({
    keyFlag: req.keyFlag,
    keyEnv: world.env.KILN_SIGNING_KEY,
    configKey: config.signing?.key,
    projectPath,
    cwd: world.cwd,
    paths,
  });
  if (signing.created) {
    world.emit({
      kind: 'notice',
      message: `created a local signing key ${paths.defaultKey} (public key ${paths.defaultPub}); keep the .key private and share the .pub with verifiers`,
    });
  }
  return { projectPath, source, config, configText, signing };
}
