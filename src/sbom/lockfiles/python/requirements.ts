// pip requirements.txt, pinned (`name==version --hash=…`, as `pip-compile --generate-hashes` writes) → ComponentGraph.
import { posix } from 'node:path';
import { sha256Digest } from '../../../core/digest.js';
import { KilnError } from '../../../core/errors.js';
import { escapeForTerminal } from '../../../core/terminal.js';
import { assembleGraph, type ComponentGraph, type ComponentHash } from '../../graph.js';
import { type MarkerEnvironment, type MarkerTruth, markerTruth } from './markers.js';
import { isPythonName, normalizePythonName, parsePythonHash, pypiPurl, UNNAMED_PYTHON_ROOT } from './name.js';
import { readPyproject } from './pyproject.js';

/** Files besides requirements.txt: those it includes with `-r`, and pyproject.toml to name the project. */
export interface ReadRequirementsOptions {
  /** Project files by path relative to the project directory (`-r` targets are looked up here). */
  readonly files?: ReadonlyMap<string, string>;
  readonly pyproject?: { readonly text: string; readonly file: string };
  /** Where pip installs (pythonEnvironment(platform)); without it, markers naming the platform are unknown. */
  readonly environment?: MarkerEnvironment;
}

interface Requirement {
  readonly name: string;
  readonly version: string;
  readonly purl: string;
  /** Its marker's value where pip installs; undefined when it has none. */
  readonly marker: MarkerTruth | undefined;
  readonly hashes: ComponentHash[];
  /** pip-compile's `# via` annotation: `-r file` (direct) or the packages that need this one. */
  readonly via: string[];
  readonly where: string;
}

/** One logical line: continuation lines joined as pip joins them, numbered by its first physical line. */
interface LogicalLine {
  readonly text: string;
  readonly line: number;
}

const PIN_HINT =
  'Pin every requirement to one version with hashes: `pip-compile --generate-hashes requirements.in` (pip-tools) or `uv pip compile --generate-hashes`.';
const SPEC_RE = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$/;
const IGNORED_OPTIONS =
  /^(?:-i|--index-url|--extra-index-url|--no-index|-f|--find-links|--trusted-host|--pre|--prefer-binary|--require-hashes|--only-binary|--no-binary|--use-feature|-c|--constraint)(?:[\s=]|$)/;
const INCLUDE_RE = /^(?:-r|--requirement)(?:\s*=\s*|\s+)(\S+)$/;

/** The paths (relative to the project) that `-r` lines of a requirements file name: what a caller must supply. */
export function requirementIncludes(text: string, file: string): string[] {
  return logicalLines(text).flatMap((l) => {
    const m = INCLUDE_RE.exec(stripComment(l.text));
    return m?.[1] ? [posix.normalize(posix.join(posix.dirname(file), m[1]))] : [];
  });
}

/**
 * Reads a requirements file (and the files it `-r`-includes) into a frozen ComponentGraph. Pure.
 * Every requirement must be `name==version` (or `===`) or `name @ url`: anything looser names a range, not what is
 * installed, so it is refused. A pin whose marker is false where pip installs (`options.environment`) is left out, as
 * pip skips it; an unknown one (the Python version) is kept. Edges and direct dependencies come from pip-compile's
 * `# via` annotations; a file without them lists every pin as direct.
 * Everything is `runtime`: requirements.txt does not say which pins are development tools.
 */
export function readRequirementsTxt(text: string, file: string, options: ReadRequirementsOptions = {}): ComponentGraph {
  const problems: string[] = [];
  const requirements: Requirement[] = [];
  // pip evaluates a requirement line's marker with `extra` = '' (InstallRequirement.match_markers).
  const environment: MarkerEnvironment = { ...options.environment, extra: '' };
  const visit = (body: string, path: string, seen: readonly string[]) => {
    let last: Requirement | undefined;
    let inVia = false;
    for (const { text: raw, line } of logicalLines(body)) {
      const where = `${path}:${line}`;
      const comment = /^\s*#(\s*)(.*)$/.exec(raw);
      if (comment) {
        const via = /^via\b\s*(.*)$/.exec(comment[2] ?? '');
        if (via && last) inVia = true;
        if (via && last) last.via.push(...splitVia(via[1] ?? ''));
        else if (inVia && last && (comment[1] ?? '').length > 1) last.via.push(...splitVia(comment[2] ?? ''));
        else inVia = false;
        continue;
      }
      inVia = false;
      const content = stripComment(raw);
      const inline = /#\s*via\s+(.*)$/.exec(raw); // older pip-compile: `click==7.1.2  # via flask`
      if (content === '') continue;
      const include = INCLUDE_RE.exec(content);
      if (include?.[1]) {
        last = undefined;
        const target = posix.normalize(posix.join(posix.dirname(path), include[1]));
        const body = options.files?.get(target);
        if (target.startsWith('../') || posix.isAbsolute(target))
          problems.push(`${where}: includes "${include[1]}", which is outside the project`);
        else if (seen.includes(target))
          problems.push(`${where}: includes "${include[1]}", which includes ${path} (a cycle)`);
        else if (body === undefined)
          problems.push(`${where}: includes "${include[1]}", which Kiln was not given (is it committed?)`);
        else visit(body, target, [...seen, target]);
        continue;
      }
      if (IGNORED_OPTIONS.test(content)) continue; // index options and constraints install nothing themselves
      if (/^(?:-e|--editable)(?:\s|=)/.test(content)) {
        const target = content.replace(/^(?:-e|--editable)\s*=?\s*/, '');
        if (!/^(?:\.|\/|file:)/.test(target))
          problems.push(`${where}: editable "${target}" is not pinned to a version`);
        last = undefined; // the project's own source tree: not a dependency
        continue;
      }
      if (content.startsWith('-')) {
        problems.push(`${where}: unknown option "${content.split(/\s/)[0]}"`);
        continue;
      }
      last = requirementOf(content, where, environment, problems);
      if (last) {
        if (inline?.[1]) last.via.push(...splitVia(inline[1]));
        if (last.marker !== false) requirements.push(last); // pip: "Ignoring …: markers … don't match"
      }
    }
  };
  visit(text, file, [file]);
  const byName = mergeRequirements(requirements, problems);
  if (problems.length > 0) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    throw new KilnError(
      'KILN_LOCKFILE_INVALID',
      `${file} is not an exact list of requirements (${count}):\n  ${problems.map((p) => escapeForTerminal(p)).join('\n  ')}`,
      {
        hint: PIN_HINT,
        details: { file, problems },
      },
    );
  }
  const annotated = requirements.some((r) => r.via.length > 0);
  const dependsOn = new Map<string, Set<string>>();
  for (const r of requirements) {
    for (const v of r.via) {
      for (const parent of byName.get(normalizePythonName(v)) ?? []) {
        if (parent.purl !== r.purl) dependsOn.set(parent.purl, (dependsOn.get(parent.purl) ?? new Set()).add(r.purl));
      }
    }
  }
  const root = options.pyproject ? readPyproject(options.pyproject.text, options.pyproject.file).root : undefined;
  return assembleGraph({
    root: root ?? UNNAMED_PYTHON_ROOT,
    rootDependsOn: requirements.filter((r) => !annotated || r.via.some(isProjectVia)).map((r) => r.purl),
    installed: requirements.map((r) => ({
      name: r.name,
      version: r.version,
      purl: r.purl,
      scope: 'runtime',
      hashes: r.hashes,
      dependsOn: [...(dependsOn.get(r.purl) ?? [])],
    })),
    lockfile: { path: file, digest: sha256Digest(text) },
  });
}

/** `name==1.0 ; marker --hash=sha256:…` or `name @ url ; marker --hash=…` → a requirement, or a problem. */
function requirementOf(
  content: string,
  where: string,
  environment: MarkerEnvironment,
  problems: string[],
): Requirement | undefined {
  const optionAt = content.search(/\s--?[A-Za-z]/);
  const spec = (optionAt < 0 ? content : content.slice(0, optionAt)).trim();
  const options = optionAt < 0 ? [] : content.slice(optionAt).trim().split(/\s+/);
  const m = SPEC_RE.exec(spec);
  const name = m?.[1];
  if (!m || !name || !isPythonName(name)) {
    problems.push(`${where}: "${spec}" is not a requirement ("name==version")`);
    return undefined;
  }
  const [constraint = '', ...markerParts] = (m[2] ?? '').split(';');
  const markerText = markerParts.join(';').trim();
  const report = (problem: string) => problems.push(`${where}: ${name}: ${problem}`);
  const marker = markerText === '' ? undefined : markerTruth(markerText, environment, report);
  const hashes: ComponentHash[] = [];
  for (let i = 0; i < options.length; i++) {
    const o = options[i] ?? '';
    // `--hash=sha256:…` or `--hash sha256:…`, as pip reads either.
    const value = o === '--hash' ? options[++i] : /^--hash=(.*)$/.exec(o)?.[1];
    const parsed = value === undefined ? undefined : parsePythonHash(value);
    if (parsed === undefined) problems.push(`${where}: "${o}" is not an option Kiln reads on a requirement line`);
    else if (typeof parsed === 'string') problems.push(`${where}: ${name}: ${parsed}`);
    else hashes.push(parsed);
  }
  const c = constraint.trim();
  const url = /^@\s*(\S+)$/.exec(c)?.[1];
  if (url !== undefined) {
    const vcs = url.startsWith('git+');
    const purl = pypiPurl(name, '', { key: vcs ? 'vcs_url' : 'download_url', value: url });
    return { name, version: '', purl, marker, hashes, via: [], where };
  }
  const pin = /^===?\s*([^\s,*]+)$/.exec(c)?.[1];
  if (pin === undefined) {
    const found = c === '' ? 'no version' : `"${c}"`;
    problems.push(`${where}: ${name} is pinned to ${found}, not one version (==): the SBOM would not be exact`);
    return undefined;
  }
  return { name, version: pin, purl: pypiPurl(name, pin), marker, hashes, via: [], where };
}

/** Requirements by normalised name; one name at two versions is refused (as pip does) unless a marker may part them. */
function mergeRequirements(requirements: readonly Requirement[], problems: string[]): Map<string, Requirement[]> {
  const byName = new Map<string, Requirement[]>();
  for (const r of requirements) {
    const key = normalizePythonName(r.name);
    const same = byName.get(key) ?? [];
    const clash = same.find((s) => s.purl !== r.purl && s.marker !== 'unknown' && r.marker !== 'unknown');
    if (clash)
      problems.push(
        `${r.where}: ${r.name} is given again (as ${clash.version || 'a URL'} at ${clash.where}); pip refuses double requirements`,
      );
    byName.set(key, [...same, r]);
  }
  return byName;
}

/** A `# via` source that is the project itself: `-r requirements.in`, or `name (pyproject.toml)` (also setup.py/cfg). */
function isProjectVia(via: string): boolean {
  return via.startsWith('-r ') || /\((?:pyproject\.toml|setup\.py|setup\.cfg)\)$/.test(via);
}

function splitVia(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function stripComment(text: string): string {
  return text.replace(/(^|\s+)#.*$/, '').trim();
}

/** pip's join_lines: a line ending in `\` continues on the next; a comment line ends the continuation. */
function logicalLines(text: string): LogicalLine[] {
  const out: LogicalLine[] = [];
  let pending: { parts: string[]; line: number } | undefined;
  text.split('\n').forEach((physical, i) => {
    const raw = physical.replace(/\r$/, '');
    const isComment = /^\s*#/.test(raw);
    if (raw.endsWith('\\') && !isComment) {
      pending ??= { parts: [], line: i + 1 };
      pending.parts.push(raw.slice(0, -1));
      return;
    }
    if (pending) {
      out.push({ text: [...pending.parts, isComment ? '' : raw].join(''), line: pending.line });
      pending = undefined;
      if (!isComment) return;
    }
    out.push({ text: raw, line: i + 1 });
  });
  if (pending) out.push({ text: pending.parts.join(''), line: pending.line });
  return out;
}
