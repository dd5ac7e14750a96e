// The toolchain that built an artifact (shell, node, npm, git, the Kiln builder), as both SBOM writers describe it.
import { sha256Hex } from '../core/digest.js';
import { KilnError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import { escapeForTerminal } from '../core/terminal.js';
import { encodePurlComponent, npmPurl } from '../ecosystems/purl.js';
import { compareStrings } from './graph.js';

/** One program used to build the artifact but not shipped in it; `sha256` is the bare lowercase hex of its binary. */
export interface BuildTool {
  readonly name: string;
  /** As the tool reports it (`v20.20.2`, `10.8.2`); '' or absent when unknown. */
  readonly version?: string | undefined;
  readonly sha256?: string | undefined;
  /** Overrides the purl buildToolPurl derives. */
  readonly purl?: string | undefined;
}

/** A checked build tool with its identity resolved: what the writers turn into formulation entries and packages. */
export interface ResolvedBuildTool {
  readonly name: string;
  /** '' when unknown, like Component.version. */
  readonly version: string;
  readonly sha256: string | undefined;
  readonly purl: string | undefined;
}

const SHA256_RE = /^[0-9a-f]{64}$/;

/**
 * Checks `tools` (non-empty unique names, 64-hex sha256, `pkg:` purls; identical repeats are merged) and returns them
 * sorted by name, so the documents never depend on the order the builder listed its tools in. Throws KILN_USAGE listing
 * every problem.
 */
export function resolveBuildTools(tools: readonly BuildTool[] | undefined): ResolvedBuildTool[] {
  const byName = new Map<string, ResolvedBuildTool>();
  const problems: string[] = [];
  for (const [i, tool] of (tools ?? []).entries()) {
    const at = `buildTools[${i}] (${JSON.stringify(tool.name)})`;
    if (tool.name === '') problems.push(`${at}: name is empty`);
    if (tool.sha256 !== undefined && !SHA256_RE.test(tool.sha256)) {
      problems.push(`${at}: sha256 must be 64 lowercase hex digits, got ${JSON.stringify(tool.sha256)}`);
    }
    if (tool.purl !== undefined && !tool.purl.startsWith('pkg:')) {
      problems.push(`${at}: purl must start with "pkg:", got ${JSON.stringify(tool.purl)}`);
    }
    const resolved: ResolvedBuildTool = {
      name: tool.name,
      version: tool.version ?? '',
      sha256: tool.sha256,
      purl: buildToolPurl(tool),
    };
    const seen = byName.get(tool.name);
    if (seen === undefined) byName.set(tool.name, resolved);
    else if (canonicalJson(seen) !== canonicalJson(resolved)) problems.push(`${at}: listed twice with different data`);
  }
  if (problems.length > 0) {
    throw new KilnError(
      'KILN_USAGE',
      `invalid build tools for the SBOM:\n  ${problems.map((p) => escapeForTerminal(p)).join('\n  ')}`,
      {
        hint: 'Describe each tool once, with its sha256 as bare lowercase hex of its binary (as `sha256sum` prints it).',
        details: { problems },
      },
    );
  }
  return [...byName.values()].sort((a, b) => compareStrings(a.name, b.name));
}

/**
 * The purl of a tool, kept simple: the given one if any; none without a version (a purl without one names no binary);
 * `pkg:npm/npm@<version>` for npm, which is published on npm; `pkg:generic/<name>@<version>` for the rest (node,
 * sh, git, kiln-builder-…), the version verbatim as the tool reports it (node's keeps its `v`).
 */
export function buildToolPurl(tool: BuildTool): string | undefined {
  if (tool.purl !== undefined) return tool.purl;
  const version = tool.version ?? '';
  if (version === '') return undefined;
  if (tool.name === 'npm') return npmPurl('npm', version);
  return `pkg:generic/${encodePurlComponent(tool.name)}@${encodePurlComponent(version)}`;
}

/** Hex digest of the resolved tool list for document identifiers (serial number, namespace); '' for no tools. */
export function buildToolsDigest(tools: readonly ResolvedBuildTool[]): string {
  return tools.length === 0 ? '' : sha256Hex(canonicalJson(tools));
}
