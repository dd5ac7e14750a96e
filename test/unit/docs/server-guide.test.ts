// docs/guide/server.md: its full kiln-server.yaml example is valid, and it documents every key the schema has.
import { describe, expect, it } from 'vitest';
import { parseServerConfig, serverJsonSchema } from '../../../src/config/index.js';
import { guidePage, guideYamlExample } from '../../helpers/docs.js';

type Schema = { properties?: Record<string, Schema>; items?: Schema };

const schema = serverJsonSchema() as Schema;
const projectKeys = Object.keys(schema.properties?.projects?.items?.properties ?? {});

describe('docs/guide/server.md', () => {
  it('has a full example that passes validation and uses every key', () => {
    const example = guideYamlExample('server.md', 'A full kiln-server.yaml');
    const config = parseServerConfig(example, '/srv/kiln/kiln-server.yaml');
    expect(config.projects.map((p) => p.name)).toEqual(['shop', 'tools']);
    expect(projectKeys.length).toBeGreaterThan(10);
    for (const key of projectKeys) expect(example, key).toMatch(new RegExp(`^( {2}- | {4})${key}:`, 'm'));
    for (const key of Object.keys(schema.properties ?? {})) expect(example, key).toMatch(new RegExp(`^${key}:`, 'm'));
  });

  it('documents every key of the server and of a project in its tables', () => {
    const keys = [
      ...Object.keys(schema.properties ?? {}).filter((k) => k !== 'limits'),
      'limits.webhookBodyBytes',
      ...projectKeys,
    ];
    for (const key of keys) expect(guidePage('server.md'), key).toContain(`| \`${key}\``);
  });
});
