// The builder digest: what the steps run with (runner kind + the resolved host tools, or a builder rootfs), part of
// every action key and of provenance.
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Digest, digestHex, sha256Digest } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import type { KilnPaths } from '../core/home.js';
import { canonicalJson } from '../core/json.js';
import type { TextSeal } from '../core/seal.js';
import { hostBuilderDigest } from './builder.js';
import { SANDBOX_PATH } from './bwrap-args.js';
import type { StepRunner } from './index.js';
import { rootfsBuilderDigest } from './rootfs-digest.js';
import { loadToolMemo } from './tool-memo.js';

/** Tools steps commonly call; their binaries and versions identify the toolchain. */
export const BUILDER_TOOLS = ['sh', 'bash', 'node', 'npm', 'npx', 'git', 'tar', 'gzip', 'cp', 'find'];

/** The builder identity of this build, with the tool list for provenance. */
export async function builderIdentity(
  runner: StepRunner,
  path: string,
  memoFile: { file: string; seal?: TextSeal },
  tools: readonly string[] = BUILDER_TOOLS,
) {
  const memo = await loadToolMemo(memoFile.file, memoFile.seal);
  const host = await hostBuilderDigest({ tools: [...tools], path, memo });
  await memo.save().catch(() => undefined); // only a speed-up: a read-only home must not fail the build
  const digest: Digest = sha256Digest(
    // The key stays `hermetic` (its name before runners said `sandboxed`), so builder digests do not change.
    canonicalJson({ runner: runner.kind, hermetic: runner.sandboxed, host: host.digest }),
  );
  return { digest, tools: host.tools };
}

/** The builder steps run with (runner and the tools on their PATH), computed before anything else needs it. */
export type BuilderIdentity = Awaited<ReturnType<typeof builderIdentity>>;

/** The PATH steps see: in the sandbox the fixed one over the read-only toolchain; on the host, the caller's. */
export function stepPath(runner: StepRunner, env: Readonly<Record<string, string | undefined>>): string {
  return runner.kind === 'bubblewrap' ? SANDBOX_PATH : (env.PATH ?? SANDBOX_PATH);
}

/** The builder identity of a build with `runner` (tool hashes come from the memo in the Kiln home when unchanged). */
export function identifyBuilder(
  runner: StepRunner,
  env: Readonly<Record<string, string | undefined>>,
  memo: { paths: KilnPaths; seal: TextSeal },
  extraTools: readonly string[] = [],
): Promise<BuilderIdentity> {
  const tools = [...new Set([...BUILDER_TOOLS, ...extraTools])];
  return builderIdentity(runner, stepPath(runner, env), { file: memo.paths.toolMemo, seal: memo.seal }, tools);
}

/**
 * The runner steps use and the builder identity: the host toolchain (`hostIdentity`), or the builder rootfs that
 * kiln.yaml `sandbox.rootfs` names, hashed and checked against its `sandbox.digest` pin.
 */
export async function resolveBuilder(
  prepared: {
    /** kiln.yaml's `sandbox` section. */
    readonly sandbox:
      | { readonly rootfs?: string; readonly digest?: string; readonly tools?: readonly string[] }
      | undefined;
    /** The project directory a relative rootfs is resolved against. */
    readonly projectPath: string;
  },
  runner: StepRunner,
  hostIdentity: (extraTools: readonly string[]) => Promise<BuilderIdentity>,
  onNotice: (message: string) => void,
  kilnHome: string,
): Promise<{ runner: StepRunner; builder: BuilderIdentity }> {
  const sandbox = prepared.sandbox;
  if (sandbox?.rootfs === undefined) return { runner, builder: await hostIdentity(sandbox?.tools ?? []) };
  if (!runner.withRootfs) {
    throw new KilnError(
      'KILN_CONFIG_INVALID',
      `kiln.yaml sandbox.rootfs needs the bubblewrap runner, not ${runner.kind}`,
      {
        hint: 'build without --runner host, or remove sandbox from kiln.yaml to build with the host toolchain',
      },
    );
  }
  // Resolved once: what is hashed is what is mounted, even if a link on the way is switched meanwhile.
  const given = resolve(prepared.projectPath, sandbox.rootfs);
  const dir = await realpath(given).catch(() => given);
  const home = await realpath(kilnHome).catch(() => kilnHome);
  if (home === dir || home.startsWith(`${dir.replace(/\/$/, '')}/`)) {
    throw new KilnError('KILN_SANDBOX', `builder rootfs ${dir} contains the Kiln home ${home}`, {
      hint: 'steps would see the signing keys, the cache and the store: use a rootfs directory that does not hold KILN_HOME',
    });
  }
  const rootfs = await rootfsBuilderDigest(dir);
  if (sandbox.digest !== undefined && rootfs.digest !== sandbox.digest) {
    throw new KilnError(
      'KILN_SANDBOX',
      `builder rootfs ${dir} has digest ${rootfs.digest}, but kiln.yaml pins ${sandbox.digest}`,
      { hint: 'build with the rootfs the pin names, or update sandbox.digest in kiln.yaml if this rootfs is intended' },
    );
  }
  onNotice(
    `sandbox: builder rootfs ${dir} is ${rootfs.digest} (${rootfs.entries} entries, ${(rootfs.bytes / 1e6).toFixed(1)} MB)${sandbox.digest ? ', as pinned' : ''}`,
  );
  const digest = sha256Digest(
    canonicalJson({ runner: runner.kind, hermetic: runner.sandboxed, rootfs: rootfs.digest }),
  );
  // A directory has no version: its digest, labelled as one, stands for it (as for a tool that says none).
  const sha256 = digestHex(rootfs.digest);
  const tool = { name: 'rootfs', path: dir, realpath: dir, sha256, version: `sha256:${sha256.slice(0, 16)}` };
  return { runner: runner.withRootfs(dir), builder: { digest, tools: [tool] } };
}

/** What built an artifact, for both SBOMs (build-time components) and provenance (resolvedDependencies). */
export function builderToolchain(builder: BuilderIdentity, runnerKind: string, kilnVersion: string) {
  return [
    { name: `kiln-builder-${runnerKind}`, version: kilnVersion, sha256: digestHex(builder.digest) },
    ...builder.tools.map((t) => ({ name: t.name, sha256: t.sha256, ...(t.version ? { version: t.version } : {}) })),
  ];
}
