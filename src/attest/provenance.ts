// SLSA provenance v1 for a Kiln build: a pure function of what the build knew, so it has golden tests.
import { type Digest, digestHex, isDigest } from '../core/digest.js';
import { deepFreeze } from '../core/json.js';

/**
 * buildType of every Kiln build; it defines the externalParameters/internalParameters below. v2: the isolation is
 * recorded as `sandboxed`, `networkIsolated` and `hermetic` (v1 had only `runner.hermetic`, which meant sandboxed).
 */
export const KILN_BUILD_TYPE = 'https://kiln.dev/build-types/kiln-build/v2';
/** builder.id of a build run by the local CLI (a developer machine: weaker guarantees). */
export const LOCAL_BUILDER_ID = 'https://kiln.dev/builders/local-cli/v1';
/** builder.id of a build run by a control-plane worker (keys and sandbox out of the build's reach). */
export const CONTROL_PLANE_BUILDER_ID = 'https://kiln.dev/builders/control-plane/v1';

/** Everything a finished build knows that goes into its provenance. */
export interface ProvenanceInput {
  builderId: string;
  buildId: string;
  startedOn: string;
  finishedOn: string;
  source: { repoUrl: string; commit: string; subdir: string; dirty: boolean };
  config: { path: string; digest: Digest };
  steps: {
    name: string;
    run: string;
    network: boolean;
    /** The digest of the step's output tree, and the build that produced it when it was replayed from the cache. */
    outputs?: Digest;
    cachedFrom?: string;
  }[];
  lockfiles: { path: string; digest: Digest }[];
  toolchain: { name: string; version: string; digest?: Digest }[];
  /** `sandboxed`: the runner isolates steps from the host (bubblewrap), not `--runner host`. */
  runner: { kind: string; sandboxed: boolean };
  /**
   * The control-plane worker that ran the build, and the builder's version (`{ kiln: "0.1.0" }`); both absent for a
   * local build, whose predicate then has neither `builder.version` nor `internalParameters.worker`.
   */
  worker?: BuildWorker;
  builderVersion?: Readonly<Record<string, string>>;
}

/** A control-plane worker as provenance and the store name it: its id, the host it ran on and its labels. */
export interface BuildWorker {
  readonly id: string;
  readonly host: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * How isolated a build's steps were. This is the one definition of "hermetic" in Kiln, which provenance records and
 * the policy's `hermetic` rule requires: every step ran in the sandbox, and no step had network access.
 */
export interface BuildIsolation {
  /** Every step ran in the sandbox (bubblewrap), none on the host. */
  readonly sandboxed: boolean;
  /** No step had network access (`network: true`); externalParameters.networkSteps lists those that did. */
  readonly networkIsolated: boolean;
  /** sandboxed and networkIsolated. */
  readonly hermetic: boolean;
}

/** The isolation of a build from its runner and steps. */
export function buildIsolation(input: Pick<ProvenanceInput, 'runner' | 'steps'>): BuildIsolation {
  const sandboxed = input.runner.sandboxed;
  const networkIsolated = input.steps.every((s) => !s.network);
  return { sandboxed, networkIsolated, hermetic: sandboxed && networkIsolated };
}

/** Why a build is not hermetic ('' when it is): the runner outside the sandbox, the steps with network. */
export function notHermeticBecause(isolation: BuildIsolation, runnerKind: string, networkSteps: readonly string[]) {
  const reasons = [
    ...(isolation.sandboxed ? [] : [`steps ran with the ${runnerKind} runner, outside the sandbox`]),
    ...(isolation.networkIsolated ? [] : [`step(s) ${networkSteps.join(', ')} had network access (network: true)`]),
  ];
  return reasons.join('; ');
}

/**
 * The isolation a provenance predicate records and why it is not hermetic. A kiln-build/v1 predicate (before v2)
 * recorded `runner.hermetic`, which meant sandboxed; anything unreadable counts as neither sandboxed nor isolated.
 */
export function isolationInProvenance(predicate: unknown): { isolation: BuildIsolation; why: string } {
  const definition = field(predicate, 'buildDefinition');
  const internal = field(definition, 'internalParameters');
  const runner = field(internal, 'runner');
  const network = field(field(definition, 'externalParameters'), 'networkSteps');
  const networkSteps = Array.isArray(network) ? network.map((s) => String(field(s, 'name'))) : undefined;
  const sandboxed = (field(internal, 'sandboxed') ?? field(runner, 'hermetic')) === true;
  const networkIsolated = networkSteps !== undefined && networkSteps.length === 0;
  const isolation = { sandboxed, networkIsolated, hermetic: sandboxed && networkIsolated };
  const kind = field(runner, 'kind');
  return {
    isolation,
    why: notHermeticBecause(isolation, typeof kind === 'string' ? kind : 'unknown', networkSteps ?? ['(not recorded)']),
  };
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** An in-toto ResourceDescriptor (the subset Kiln writes). */
export interface ResourceDescriptor {
  readonly uri: string;
  readonly digest?: Readonly<Record<string, string>>;
}

/** The SLSA provenance v1 predicate Kiln emits for the kiln-build/v1 build type. */
export interface ProvenancePredicate {
  readonly buildDefinition: {
    readonly buildType: typeof KILN_BUILD_TYPE;
    readonly externalParameters: {
      readonly source: {
        readonly uri: string;
        readonly digest: { readonly gitCommit: string };
        readonly subdir: string;
        readonly dirty: boolean;
      };
      readonly config: { readonly path: string; readonly digest: { readonly sha256: string } };
      readonly networkSteps: readonly { readonly name: string; readonly run: string }[];
    };
    readonly internalParameters: {
      readonly runner: { readonly kind: string };
      readonly worker?: BuildWorker;
    } & BuildIsolation;
    readonly resolvedDependencies: readonly ResourceDescriptor[];
  };
  readonly runDetails: {
    readonly builder: { readonly id: string; readonly version?: Readonly<Record<string, string>> };
    readonly metadata: { readonly invocationId: string; readonly startedOn: string; readonly finishedOn: string };
    /** Each step's output tree; `annotations.cache` says whether it ran or was replayed, and from which build. */
    readonly byproducts: readonly (ResourceDescriptor & {
      readonly name: string;
      readonly annotations: Readonly<Record<string, string>>;
    })[];
  };
}

const COMMIT_RE = /^[0-9a-f]{40}$/;
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Builds the provenance predicate; lockfiles and toolchain are sorted so equal inputs give equal bytes. */
export function provenancePredicate(input: ProvenanceInput): ProvenancePredicate {
  assertInput(input);
  const { source } = input;
  const repo = gitUri(source.repoUrl);
  const lockfiles = [...input.lockfiles].sort((a, b) => compare(a.path, b.path));
  const toolchain = [...input.toolchain].sort((a, b) => compare(a.name, b.name) || compare(a.version, b.version));
  return deepFreeze({
    buildDefinition: {
      buildType: KILN_BUILD_TYPE,
      externalParameters: {
        source: { uri: repo, digest: { gitCommit: source.commit }, subdir: source.subdir, dirty: source.dirty },
        config: { path: input.config.path, digest: { sha256: digestHex(input.config.digest) } },
        networkSteps: input.steps.filter((s) => s.network).map((s) => ({ name: s.name, run: s.run })),
      },
      internalParameters: {
        runner: { kind: input.runner.kind },
        ...buildIsolation(input),
        ...(input.worker ? { worker: workerOf(input.worker) } : {}),
      },
      resolvedDependencies: [
        { uri: `${repo}@${source.commit}`, digest: { gitCommit: source.commit } },
        ...lockfiles.map((l) => ({ uri: l.path, digest: { sha256: digestHex(l.digest) } })),
        ...toolchain.map((t) => ({
          uri: `pkg:generic/${encodeURIComponent(t.name)}@${encodeURIComponent(t.version)}`,
          ...(t.digest === undefined ? {} : { digest: { sha256: digestHex(t.digest) } }),
        })),
      ],
    },
    runDetails: {
      builder: {
        id: input.builderId,
        ...(input.builderVersion ? { version: { ...input.builderVersion } } : {}),
      },
      metadata: { invocationId: input.buildId, startedOn: input.startedOn, finishedOn: input.finishedOn },
      byproducts: input.steps
        .filter((s) => s.outputs !== undefined)
        .map((s) => ({
          name: `step:${s.name}`,
          uri: `kiln:step/${encodeURIComponent(s.name)}/outputs`,
          digest: { sha256: digestHex(s.outputs as Digest) },
          annotations: (s.cachedFrom ? { cache: 'hit', producedBy: s.cachedFrom } : { cache: 'miss' }) as Record<
            string,
            string
          >,
        })),
    },
  });
}

/** A copy of the worker with its labels sorted by name, so equal workers give equal bytes. */
function workerOf(worker: BuildWorker): BuildWorker {
  const labels = Object.fromEntries(Object.entries(worker.labels).sort(([a], [b]) => compare(a, b)));
  return { id: worker.id, host: worker.host, labels };
}

/** `git+<url>` as SLSA resolvedDependencies spell a git repository (idempotent). */
export function gitUri(repoUrl: string): string {
  return repoUrl.startsWith('git+') ? repoUrl : `git+${repoUrl}`;
}

// Inputs come from Kiln's own stages; a malformed one is a bug upstream, so these are plain Errors.
function assertInput(input: ProvenanceInput): void {
  const problems: string[] = [];
  if (!COMMIT_RE.test(input.source.commit)) problems.push(`source.commit "${input.source.commit}" is not 40 hex`);
  for (const key of ['startedOn', 'finishedOn'] as const) {
    if (!TIMESTAMP_RE.test(input[key])) problems.push(`${key} "${input[key]}" is not an ISO UTC timestamp`);
  }
  if (!isDigest(input.config.digest)) problems.push(`config.digest "${input.config.digest}" is not sha256:<hex>`);
  for (const l of input.lockfiles) if (!isDigest(l.digest)) problems.push(`lockfile ${l.path} digest is malformed`);
  for (const t of input.toolchain) {
    if (t.digest !== undefined && !isDigest(t.digest)) problems.push(`toolchain ${t.name} digest is malformed`);
  }
  if (problems.length > 0) throw new Error(`provenancePredicate: invalid input: ${problems.join('; ')}`);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
