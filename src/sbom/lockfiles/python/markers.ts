// PEP 508 environment markers, evaluated for the build platform in three values: what may be installed is kept.
import type { NpmPlatform } from '../npm/platform.js';
import { compareMarkerValues } from './marker-compare.js';
import { type Marker, parseMarker, VERSION_VARIABLES } from './marker-parse.js';
import { normalizePythonName } from './name.js';

// The parser, so that one module is the whole marker API.
export { type Marker, parseMarker } from './marker-parse.js';

/** A marker's value at the build: `'unknown'` when it turns on what Kiln does not know (Python's version). */
export type MarkerTruth = boolean | 'unknown';

/** The values of the marker variables where the build installs; one left undefined is unknown (never ''). */
export interface MarkerEnvironment {
  readonly os_name?: string | undefined;
  readonly sys_platform?: string | undefined;
  readonly platform_system?: string | undefined;
  readonly platform_machine?: string | undefined;
  readonly platform_release?: string | undefined;
  readonly platform_version?: string | undefined;
  readonly implementation_name?: string | undefined;
  readonly platform_python_implementation?: string | undefined;
  readonly python_version?: string | undefined;
  readonly python_full_version?: string | undefined;
  readonly implementation_version?: string | undefined;
  /** The extra being installed ('' for none), as pip evaluates a requirement's markers. */
  readonly extra?: string | undefined;
  /** Lockfile markers (PEP 751): the extras and dependency groups requested. */
  readonly extras?: ReadonlySet<string> | undefined;
  readonly dependency_groups?: ReadonlySet<string> | undefined;
}

/** The marker's value in `environment`: `and` is false if any part is, `or` true if any part is, else unknown wins. */
export function evaluateMarker(marker: Marker, environment: MarkerEnvironment): MarkerTruth {
  switch (marker.kind) {
    case 'and':
    case 'or': {
      const decisive = marker.kind === 'or'; // the value that settles the whole: false for `and`, true for `or`
      let unknown = false;
      for (const item of marker.items) {
        const truth = evaluateMarker(item, environment);
        if (truth === decisive) return decisive;
        if (truth === 'unknown') unknown = true;
      }
      return unknown ? 'unknown' : !decisive;
    }
    case 'compare': {
      const found = environment[marker.variable];
      if (found === undefined) return 'unknown';
      if (typeof found !== 'string') {
        const names = new Set([...found].map(normalizePythonName));
        return names.has(normalizePythonName(marker.value)) === (marker.op === 'in');
      }
      // Extra names compare PEP 503-normalised (PEP 685); an untagged CPython build's "3.12.1+" is made PEP 440.
      const norm = marker.variable === 'extra' ? normalizePythonName : (s: string) => s;
      const current = marker.variable === 'python_full_version' && found.endsWith('+') ? `${found}local` : found;
      const [lhs, rhs] = marker.variableFirst
        ? [norm(current), norm(marker.value)]
        : [norm(marker.value), norm(current)];
      return compareMarkerValues(lhs, marker.op, rhs, VERSION_VARIABLES.has(marker.variable));
    }
  }
}

/** Several joined as `or` joins them: true if one is, false if all are (or there are none), else unknown. */
export function anyMarker(truths: Iterable<MarkerTruth>): MarkerTruth {
  let unknown = false;
  for (const t of truths) {
    if (t === true) return true;
    if (t === 'unknown') unknown = true;
  }
  return unknown ? 'unknown' : false;
}

/** Parses and evaluates `text`; one that is no marker is reported (saying what is wrong) and counts as unknown. */
export function markerTruth(
  text: string,
  environment: MarkerEnvironment,
  report: (problem: string) => void,
): MarkerTruth {
  const marker = parseMarker(text);
  if (typeof marker !== 'string') return evaluateMarker(marker, environment);
  report(marker);
  return 'unknown';
}

// What Python reports on each platform Node names: sys.platform, platform.system(), os.name, and platform.machine()
// (uname -m on Linux and macOS, PROCESSOR_ARCHITECTURE on Windows). Other platforms are left unknown.
const SYSTEMS: Readonly<Record<string, { sys: string; system: string; os: string; machines: Record<string, string> }>> =
  {
    linux: {
      sys: 'linux',
      system: 'Linux',
      os: 'posix',
      machines: { x64: 'x86_64', arm64: 'aarch64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' },
    },
    darwin: { sys: 'darwin', system: 'Darwin', os: 'posix', machines: { x64: 'x86_64', arm64: 'arm64' } },
    win32: { sys: 'win32', system: 'Windows', os: 'nt', machines: { x64: 'AMD64', arm64: 'ARM64', ia32: 'x86' } },
  };

/**
 * The marker environment of a build on `platform` (hostNpmPlatform() in production): the OS and machine as CPython
 * there reports them. The Python version, the OS release and any extra are left unknown: Kiln does not know them.
 */
export function pythonEnvironment(platform: NpmPlatform): MarkerEnvironment {
  const system = Object.hasOwn(SYSTEMS, platform.os) ? SYSTEMS[platform.os] : undefined;
  const machine = system && Object.hasOwn(system.machines, platform.cpu) ? system.machines[platform.cpu] : undefined;
  return Object.freeze({
    os_name: system?.os,
    sys_platform: system?.sys,
    platform_system: system?.system,
    platform_machine: machine,
    implementation_name: 'cpython',
    platform_python_implementation: 'CPython',
  });
}
