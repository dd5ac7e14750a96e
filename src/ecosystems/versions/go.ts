// Go module versions: canonical semantic versions (go.dev/ref/mod#versions), with or without the leading 'v'.
import { parseSemver, type Semver } from './semver.js';

/**
 * Reads a Go module version such as `v1.2.3`, `v1.2.4-0.20191109021931-daa7c04131f5` or `v2.0.0+incompatible`;
 * OSV's Go records drop the 'v' ("1.2.3"), go.sum keeps it, so both are accepted.
 *
 * The grammar is golang.org/x/mod/semver's, which is SemVer 2.0.0's with a leading 'v'. Its shorthands `v1` and
 * `v1.2` are refused: a module version must be canonical (`go mod edit` rejects `v1.2` with "must be of the form
 * v1.2.3"), and accepting them would read OSV's special `introduced: "0"` as v0.0.0, which is *after*
 * v0.0.0-pseudo-versions. Pseudo-versions are pre-releases, so they need no rule of their own; build metadata
 * (`+incompatible`) is ignored when comparing, as semver.Compare ignores it.
 */
export function parseGoVersion(text: string): Semver | undefined {
  return parseSemver(text.charCodeAt(0) === 118 /* v */ ? text.slice(1) : text);
}
