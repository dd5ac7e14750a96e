// Examples of the user guide, read by the tests that check them.
import { readFileSync } from 'node:fs';

/** The text of a page of docs/guide/. */
export function guidePage(name: string): string {
  return readFileSync(new URL(`../../docs/guide/${name}`, import.meta.url), 'utf8');
}

/** The first ```yaml block of the section of `page` titled `heading` (a "## " heading). */
export function guideYamlExample(page: string, heading: string): string {
  const section = guidePage(page).split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? '';
  const m = /```yaml\n([\s\S]*?)```/.exec(section);
  if (!m?.[1]) throw new Error(`docs/guide/${page} has no yaml example under "${heading}"`);
  return m[1];
}
