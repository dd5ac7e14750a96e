// A one-entry memo for lockfile parsing: a workspace's SBOM reads one lockfile once per package it describes.

/**
 * `read`, remembering its last result for the same arguments (compared with ===; a string by its content). Failures
 * are not remembered. The result is shared between callers, so it must be treated as frozen.
 */
export function rememberLast<K extends readonly unknown[], V>(read: (...args: K) => V): (...args: K) => V {
  let last: { args: K; value: V } | undefined;
  return (...args) => {
    if (last?.args.length === args.length && last.args.every((a, i) => a === args[i])) return last.value;
    const value = read(...args);
    last = { args, value };
    return value;
  };
}
