// A workspace package as planning sees it.

/** One package of the workspace, as much of its package.json as planning needs. */
export interface WorkspacePackage {
  readonly name: string;
  /** Relative to the project directory, POSIX separators, never "." (the root is not a workspace package). */
  readonly dir: string;
  /** "" when package.json has none. */
  readonly version: string;
  readonly scripts: Readonly<Record<string, string>>;
  /** Other workspace packages named in any dependency field (any version spec, `workspace:*` too), sorted. */
  readonly dependsOn: readonly string[];
}
