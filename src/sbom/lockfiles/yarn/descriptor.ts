// Yarn descriptors (`name@range`, `@scope/name@npm:^1.0.0`, `alias@npm:real@1.0.0`): the keys of yarn.lock entries.

/** A descriptor split at the `@` after the (possibly scoped) name; undefined when it has no name or no range. */
export function splitDescriptor(descriptor: string): { name: string; range: string } | undefined {
  const from = descriptor.startsWith('@') ? descriptor.indexOf('/') : 0;
  const at = from < 0 ? -1 : descriptor.indexOf('@', from + 1);
  if (at <= 0 || at === descriptor.length - 1) return undefined;
  return { name: descriptor.slice(0, at), range: descriptor.slice(at + 1) };
}

/** The package a descriptor installs: an alias (`ms-old@npm:ms@2.0.0`) installs `ms`, anything else its own name. */
export function realName(descriptor: string): string | undefined {
  const split = splitDescriptor(descriptor);
  if (split === undefined) return undefined;
  if (!split.range.startsWith('npm:')) return split.name;
  const target = splitDescriptor(split.range.slice('npm:'.length));
  return target?.name ?? split.name; // `npm:^1.0.0` (berry's plain range) is no alias
}

/** Splits one yarn.lock key (`a@^1.0.0, a@^1.1.0`) into its descriptors. */
export function splitKeyList(key: string): string[] {
  return key
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
}
