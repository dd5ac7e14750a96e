// `kiln gc`: a project's kiln.yaml `retention` applied to the store, the OCI layout and the registries it published
// to. A dry run unless asked to apply; registries go first, so one that cannot be reached changes nothing local.
import { join, resolve } from 'node:path';
import { loadConfigFile } from '../config/index.js';
import { KilnError } from '../core/errors.js';
import { readLayoutManifests } from '../registry/index.js';
import {
  applyRetention,
  deleteRegistryCopies,
  planRetention,
  type RegistryDeletion,
  type RetentionPlan,
  type RetentionResult,
  retentionReport,
} from '../retention/index.js';
import { locateProject, repositoryUrl } from '../source/index.js';
import { retentionRecords } from '../store/index.js';
import { settleAbandonedBuilds } from './builds.js';
import type { KilnPorts } from './ports.js';

/** What `kiln gc` is asked: the project (relative to the caller), and whether to apply the plan. */
export interface GcRequest {
  readonly projectPath: string;
  readonly apply: boolean;
  /** Leave registries alone (their copies of what goes are then no longer tracked). */
  readonly localOnly: boolean;
}

/** The plan, what applying it did (null on a dry run), and the report lines that say both. */
export interface GcResult {
  readonly dryRun: boolean;
  readonly plan: RetentionPlan;
  readonly applied: RetentionResult | null;
  readonly registries: RegistryDeletion | null;
  /** The human report: every build with what happens to it and why, then what registries did. */
  readonly report: readonly string[];
}

/** Plans retention for the project and, when asked, applies it. */
export async function gc(
  ports: Pick<KilnPorts, 'cwd' | 'env' | 'home' | 'store' | 'artifacts' | 'registries' | 'now' | 'events'>,
  request: GcRequest,
): Promise<GcResult> {
  const layoutDir = ports.artifacts.layoutDir;
  if (layoutDir === undefined) {
    throw new KilnError('KILN_USAGE', `kiln gc applies retention to an OCI layout, not to ${ports.artifacts.name}`, {
      hint: "use the registry's own retention for artifacts a worker publishes there",
    });
  }
  const projectPath = resolve(ports.cwd, request.projectPath);
  const { config } = await loadConfigFile(join(projectPath, 'kiln.yaml'));
  const now = ports.now();
  const store = await ports.store();
  await settleAbandonedBuilds(ports, store); // a dead build's row is judged as failed, not kept as running
  // The project is its name in this repository: a namesake in another repository keeps its own builds.
  const gitEnv = { PATH: ports.env.PATH };
  const { repoRoot, subdir } = await locateProject(projectPath, undefined, gitEnv);
  const scope = { project: config.name, repoUrl: await repositoryUrl(repoRoot, gitEnv), subdir };
  const [records, manifests] = await Promise.all([retentionRecords(store, scope), readLayoutManifests(layoutDir)]);
  const plan = planRetention({
    project: config.name,
    policy: config.retention,
    environments: config.environments,
    now,
    records,
    layout: { dir: layoutDir, manifests },
    outputDir: resolve(projectPath, config.output),
    publishTo: config.publish?.to ?? null,
  });
  // Registries first: if one cannot be reached, nothing local is touched and the next run has the same plan.
  const insecure = config.publish?.insecure ?? false;
  const registries =
    request.apply && !request.localOnly
      ? await deleteRegistryCopies(
          plan,
          async (registry) => ports.registries(registry, { insecure }),
          config.environments,
          ports.events,
        )
      : null;
  const applied = request.apply
    ? await applyRetention(plan, { store, buildDir: ports.home.buildDir, now, emit: ports.events })
    : null;
  const report = [
    ...retentionReport(plan, applied ?? undefined),
    ...(registries?.deleted ?? []).map((ref) => `deleted from the registry: ${ref}`),
    ...(registries?.left ?? []).map((l) => `left in the registry: ${l.ref} (${l.why})`),
  ];
  return { dryRun: !applied, plan, applied, registries, report };
}
