// The builder digest: what the steps run with (runner kind + the resolved host tools), part of every action key.
import type { Digest } from '../core/digest.js';
import { sha256Digest } from '../core/digest.js';
import { canonicalJson } from '../core/json.js';
import { hostBuilderDigest } from '../sandbox/builder.js';
import type { StepRunner } from '../sandbox/index.js';
import { loadToolMemo } from '../sandbox/tool-memo.js';

/** Tools steps commonly call; their binaries and versions identify the toolchain. */
export const BUILDER_TOOLS = ['sh', 'bash', 'node', 'npm', 'npx', 'git', 'tar', 'gzip', 'cp', 'find'];

/** The builder identity of this build, with the tool list for provenance. */
export async function builderIdentity(runner: StepRunner, path: string, memoFile: string) {
  const memo = await loadToolMemo(memoFile);
  const host = await hostBuilderDigest({ tools: BUILDER_TOOLS, path, memo });
  await memo.save().catch(() => undefined); // only a speed-up: a read-only home must not fail the build
  const digest: Digest = sha256Digest(
    canonicalJson({ runner: runner.kind, hermetic: runner.hermetic, host: host.digest }),
  );
  return { digest, tools: host.tools };
}
