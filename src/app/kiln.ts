// The composition root: createKiln(ports) binds every use case to one set of ports. The CLI, the server and the
// workers each compose their ports (embedded.ts has the defaults) and call the same use cases through it. Use cases
// are loaded when first called, so a command loads only the code it runs.
import { KilnError } from '../core/errors.js';
import { environmentError } from '../platform/disk.js';
import type { Store } from '../store/index.js';
import type { build } from './build/build.js';
import type { BuildOptions, BuildRequest } from './build/types.js';
import type { listBuilds, showBuild } from './builds.js';
import type { cacheGc, cacheStats } from './cache.js';
import type { checkConfig, checkServerConfig, loadServerConfig } from './config.js';
import type { importVulnerabilities, vulnerabilityData } from './db.js';
import type { GcRequest, gc } from './gc.js';
import type { machineHealth } from './health.js';
import type { generateKeys } from './keys.js';
import type { alertLog, metricsText, ObservabilityConfig, receiveAlerts } from './observe.js';
import type { planBuild } from './plan.js';
import type { KilnPorts } from './ports.js';
import type { PromoteRequest, promote } from './promote/promote.js';
import type { PublishRequest, publish } from './publish.js';
import type { resolveRemote } from './remote.js';
import type { projectSbom } from './sbom.js';
import type { ScanRequest, scanRecorded } from './scan.js';
import type { authenticate, createToken, listTokens, revokeToken } from './tokens.js';
import type { VerifyRequest, verify } from './verify.js';

/** Every user-visible operation of Kiln, over one set of ports. */
export interface Kiln {
  build(request: BuildRequest, opts?: BuildOptions): ReturnType<typeof build>;
  plan(request: Omit<BuildRequest, 'force'>): ReturnType<typeof planBuild>;
  verify(request: VerifyRequest): ReturnType<typeof verify>;
  publish(request: PublishRequest): ReturnType<typeof publish>;
  promote(request: PromoteRequest): ReturnType<typeof promote>;
  scan(request: ScanRequest): ReturnType<typeof scanRecorded>;
  importVulnerabilities(source: string): ReturnType<typeof importVulnerabilities>;
  vulnerabilityData(): ReturnType<typeof vulnerabilityData>;
  gc(request: GcRequest): ReturnType<typeof gc>;
  listBuilds(opts: Parameters<typeof listBuilds>[1]): ReturnType<typeof listBuilds>;
  showBuild(id: string): ReturnType<typeof showBuild>;
  sbom(request: Parameters<typeof projectSbom>[1]): ReturnType<typeof projectSbom>;
  cacheStats(): ReturnType<typeof cacheStats>;
  cacheGc(maxSizeBytes: number): ReturnType<typeof cacheGc>;
  generateKeys(request: Parameters<typeof generateKeys>[1]): ReturnType<typeof generateKeys>;
  checkConfig(target: string): ReturnType<typeof checkConfig>;
  configSchema(): Promise<unknown>;
  createToken(request: Parameters<typeof createToken>[1]): ReturnType<typeof createToken>;
  listTokens(): ReturnType<typeof listTokens>;
  revokeToken(id: string): ReturnType<typeof revokeToken>;
  authenticate(
    authorization: string | undefined,
    needed: Parameters<typeof authenticate>[2],
  ): ReturnType<typeof authenticate>;
  resolveRemote(remote: Parameters<typeof resolveRemote>[1]): ReturnType<typeof resolveRemote>;
  /** Room left for builds on this machine, and memory: what a worker reports with its heartbeats. */
  health(): ReturnType<typeof machineHealth>;
  /** Opens the store now: a server checks its home when it starts, not at its first request. */
  ready(): Promise<void>;
  checkServerConfig(file: string): ReturnType<typeof checkServerConfig>;
  serverConfigSchema(): Promise<unknown>;
  loadServerConfig(file: string): ReturnType<typeof loadServerConfig>;
  /** The metrics (Prometheus text) from the store; `config` labels teams and branch classes. */
  metrics(config: Parameters<typeof metricsText>[1]): ReturnType<typeof metricsText>;
  /** Prometheus rules for kiln-server.yaml's SLOs (YAML). */
  sloRules(config?: ObservabilityConfig): Promise<string>;
  /** An Alertmanager configuration for kiln-server.yaml's `alerting` (YAML). */
  alertmanagerConfig(config?: ObservabilityConfig): Promise<string>;
  /** Records an Alertmanager webhook's alerts in the alert log. */
  receiveAlerts(body: unknown): ReturnType<typeof receiveAlerts>;
  alertLog(query: Parameters<typeof alertLog>[1]): ReturnType<typeof alertLog>;
  /** A runbook the alerts link to (Markdown); undefined when none has that name. */
  runbook(name: string): Promise<string | undefined>;
  /** Closes what the use cases opened (the store, if one did). */
  close(): Promise<void>;
}

/** Binds the use cases to `ports`; the store is opened once, on first use, and closed by `close()`. */
export function createKiln(given: KilnPorts): Kiln {
  let opened: Promise<Store> | undefined;
  const ports: KilnPorts = {
    ...given,
    store: () => {
      opened ??= given.store();
      return opened;
    },
  };
  return withEnvironmentErrors({
    build: async (request, opts) => (await import('./build/build.js')).build(ports, request, opts),
    plan: async (request) => (await import('./plan.js')).planBuild(ports, request),
    verify: async (request) => (await import('./verify.js')).verify(ports, request),
    publish: async (request) => (await import('./publish.js')).publish(ports, request),
    promote: async (request) => (await import('./promote/promote.js')).promote(ports, request),
    scan: async (request) => (await import('./scan.js')).scanRecorded(ports, request),
    importVulnerabilities: async (source) => (await import('./db.js')).importVulnerabilities(ports, source),
    vulnerabilityData: async () => (await import('./db.js')).vulnerabilityData(ports),
    gc: async (request) => (await import('./gc.js')).gc(ports, request),
    listBuilds: async (opts) => (await import('./builds.js')).listBuilds(ports, opts),
    showBuild: async (id) => (await import('./builds.js')).showBuild(ports, id),
    sbom: async (request) => (await import('./sbom.js')).projectSbom(ports, request),
    cacheStats: async () => (await import('./cache.js')).cacheStats(ports),
    cacheGc: async (maxSizeBytes) => (await import('./cache.js')).cacheGc(ports, maxSizeBytes),
    generateKeys: async (request) => (await import('./keys.js')).generateKeys(ports, request),
    checkConfig: async (target) => (await import('./config.js')).checkConfig(ports, target),
    configSchema: async () => (await import('./config.js')).configSchema(),
    createToken: async (request) => (await import('./tokens.js')).createToken(ports, request),
    listTokens: async () => (await import('./tokens.js')).listTokens(ports),
    revokeToken: async (id) => (await import('./tokens.js')).revokeToken(ports, id),
    authenticate: async (authorization, needed) =>
      (await import('./tokens.js')).authenticate(ports, authorization, needed),
    resolveRemote: async (remote) => (await import('./remote.js')).resolveRemote(ports, remote),
    health: async () => (await import('./health.js')).machineHealth(ports),
    async ready() {
      await ports.store();
    },
    checkServerConfig: async (file) => (await import('./config.js')).checkServerConfig(ports, file),
    serverConfigSchema: async () => (await import('./config.js')).serverConfigSchema(),
    loadServerConfig: async (file) => (await import('./config.js')).loadServerConfig(ports, file),
    metrics: async (config) => (await import('./observe.js')).metricsText(ports, config),
    sloRules: async (config) => (await import('./observe.js')).sloRulesYaml(config),
    alertmanagerConfig: async (config) => (await import('./observe.js')).alertmanagerYaml(config),
    receiveAlerts: async (body) => (await import('./observe.js')).receiveAlerts(ports, body),
    alertLog: async (query) => (await import('./observe.js')).alertLog(ports, query),
    runbook: async (name) => (await import('./observe.js')).readRunbook(name),
    async close() {
      const store = await opened?.catch(() => undefined);
      opened = undefined; // a use case called after close() opens the store again
      await store?.close().catch(() => undefined);
    },
  });
}

/** Every use case with a full disk or an unwritable directory reported as such (code, where), not as a bug. */
function withEnvironmentErrors(kiln: Kiln): Kiln {
  const raise = (err: unknown): never => {
    // A KilnError already says what went wrong, unless what it wraps is a full disk (e.g. KILN_STORE on SQLITE_FULL).
    const mapped = environmentError(err);
    throw mapped && (!(err instanceof KilnError) || mapped.code === 'KILN_DISK_FULL') ? mapped : err;
  };
  const guarded = Object.entries(kiln).map(([name, fn]) => [
    name,
    (...args: unknown[]) => (fn as (...a: unknown[]) => Promise<unknown>)(...args).catch(raise),
  ]);
  return Object.fromEntries(guarded) as unknown as Kiln;
}
