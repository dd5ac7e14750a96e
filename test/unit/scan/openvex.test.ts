import { describe, expect, it } from 'vitest';
import { vexSuppression } from '../../../src/scan/vex/match.js';
import { parseOpenVex, type VexDocument } from '../../../src/scan/vex/openvex.js';
import { thrown } from '../../helpers/errors.js';

// The OpenVEX spec's own examples (github.com/openvex/spec, OPENVEX-SPEC.md, v0.0.2 text). The spec prints some of
// them with missing or trailing commas; those are corrected here, nothing else is changed.
const SPEC_MINIMAL = `{
  "@context": "https://openvex.dev/ns",
  "@id": "https://openvex.dev/docs/example/vex-9fb3463de1b57",
  "author": "Wolfi J Inkinson",
  "role": "Document Creator",
  "timestamp": "2023-01-08T18:02:03.647787998-06:00",
  "version": 1,
  "statements": [
    {
      "vulnerability": {
        "name": "CVE-2023-12345"
      },
      "products": [
        {"@id": "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7"},
        {"@id": "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"}
      ],
      "status": "fixed"
    }
  ]
}`;

// The spec's "Example" section (Spring Boot and log4shell).
const SPEC_SPRING = `{
  "@context": "https://openvex.dev/ns",
  "@id": "https://openvex.dev/docs/public/vex-2e67563e128250cbcb3e98930df948dd053e43271d70dc50cfa22d57e03fe96f",
  "author": "Spring Builds <spring-builds@users.noreply.github.com>",
  "role": "Project Release Bot",
  "timestamp": "2023-01-16T19:07:16.853479631-06:00",
  "version": 1,
  "statements": [
    {
      "vulnerability": {
        "@id": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
        "name": "CVE-2021-44228",
        "description": "Remote code injection in Log4j",
        "aliases": [
          "GHSA-jfh8-c2jp-5v3q"
        ]
      },
      "products": [
        {
          "@id": "pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3",
          "identifiers": {
            "purl": "pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3"
          },
          "hashes":{
            "sha-256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
          }
        }
      ],
      "status": "not_affected",
      "justification": "vulnerable_code_not_in_execute_path",
      "impact_statement": "Spring Boot users are only affected by this vulnerability if they have switched the default logging system to Log4J2. The log4j-to-slf4j and log4j-api jars that we include in spring-boot-starter-logging cannot be exploited on their own. Only applications using log4j-core and including user input in log messages are vulnerable."
    }
  ]
}`;

// The spec's "Updating Statements with Inherited Data" example: the second statement inherits the document timestamp.
const SPEC_INHERITANCE = `{
  "@context": "https://openvex.dev/ns",
  "@id": "https://openvex.dev/docs/example/vex-84822c4e5028c",
  "author": "Wolfi J Inkinson",
  "role": "Document Creator",
  "timestamp": "2023-01-09T09:08:42-06:00",
  "version": 1,
  "statements": [
    {
      "timestamp": "2023-01-08T18:02:03-06:00",
      "vulnerability": {
        "name": "CVE-2023-12345"
      },
      "products": [
        {"@id": "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7"}
      ],
      "status": "under_investigation"
    },
    {
      "vulnerability": {
        "name": "CVE-2023-12345"
      },
      "products": [
        {"@id": "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7"}
      ],
      "status": "fixed"
    }
  ]
}`;

// openvex/go-vex pkg/vex/testdata/v0.0.1.json: the v0.0.1 shape (string vulnerability and products, string version).
const GO_VEX_V001 = `{
  "@context": "https://openvex.dev/ns/v0.0.1",
  "@id": "https://openvex.dev/docs/example/vex-9fb3463de1b57",
  "author": "Wolfi J Inkinson",
  "role": "Document Creator",
  "timestamp": "2023-01-08T18:02:03.647787998-06:00",
  "version": "1",
  "statements": [
    {
      "vulnerability": "CVE-2023-12345",
      "products": [
        "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7",
        "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"
      ],
      "status": "fixed"
    }
  ]
}`;

// vexctl output as printed in Docker's guide "Create an exception using the VEX" (docs.docker.com/scout), with the
// guide's <ORG> placeholder filled in as "example".
const VEXCTL_SUBCOMPONENTS = `{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://openvex.dev/docs/public/vex-a7e7c69be57bc49dec9cc2f3a3e3329b12674ca53b53a53ab42134dcc0510779",
  "author": "author@example.com",
  "timestamp": "2024-02-03T09:33:28.913572+01:00",
  "version": 1,
  "statements": [
    {
      "vulnerability": {
        "name": "CVE-2022-24999"
      },
      "timestamp": "2024-02-03T09:33:28.913574+01:00",
      "products": [
        {
          "@id": "pkg:docker/example/scout-demo-service@v1",
          "subcomponents": [
            {
              "@id": "pkg:npm/express@4.17.1"
            },
            {
              "@id": "pkg:npm/qs@6.7.0"
            }
          ]
        }
      ],
      "status": "not_affected",
      "justification": "vulnerable_code_not_in_execute_path"
    }
  ]
}`;

/** A v0.2.0 document with the given statements (and document timestamp). */
function doc(statements: unknown[], timestamp = '2024-01-01T00:00:00Z'): string {
  return JSON.stringify({
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'https://example.com/vex/1',
    author: 'Kiln tests',
    timestamp,
    version: 1,
    statements,
  });
}

const notAffected = (product: string, extra: Record<string, unknown> = {}) => ({
  vulnerability: { name: 'CVE-2024-0001', aliases: ['GHSA-aaaa-bbbb-cccc'] },
  products: [{ '@id': product }],
  status: 'not_affected',
  justification: 'vulnerable_code_not_present',
  ...extra,
});

describe('parseOpenVex reads the spec examples', () => {
  it('reads the minimal document', () => {
    expect(parseOpenVex(SPEC_MINIMAL, 'minimal.vex.json')).toEqual({
      id: 'https://openvex.dev/docs/example/vex-9fb3463de1b57',
      author: 'Wolfi J Inkinson',
      timestamp: '2023-01-08T18:02:03.647787998-06:00',
      statements: [
        {
          vulnerability: 'CVE-2023-12345',
          aliases: [],
          products: ['pkg:apk/wolfi/git@2.39.0-r1?arch=armv7', 'pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64'],
          subcomponents: [],
          status: 'fixed',
        },
      ],
    });
  });

  it('reads aliases, justification and impact statement, and merges @id with identifiers.purl', () => {
    const [statement] = parseOpenVex(SPEC_SPRING, 'spring.vex.json').statements;
    expect(statement).toMatchObject({
      vulnerability: 'CVE-2021-44228',
      aliases: ['GHSA-jfh8-c2jp-5v3q'],
      products: ['pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3'],
      status: 'not_affected',
      justification: 'vulnerable_code_not_in_execute_path',
      impactStatement: expect.stringMatching(/^Spring Boot users are only affected/),
    });
  });

  it('keeps statement timestamps and leaves inherited ones to the document', () => {
    const parsed = parseOpenVex(SPEC_INHERITANCE, 'inherit.vex.json');
    expect(parsed.statements.map((s) => [s.status, s.timestamp])).toEqual([
      ['under_investigation', '2023-01-08T18:02:03-06:00'],
      ['fixed', undefined],
    ]);
  });

  it('reads v0.0.1 documents, where vulnerability and products were plain strings', () => {
    const [statement] = parseOpenVex(GO_VEX_V001, 'v001.vex.json').statements;
    expect(statement).toEqual({
      vulnerability: 'CVE-2023-12345',
      aliases: [],
      products: ['pkg:apk/wolfi/git@2.39.0-r1?arch=armv7', 'pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64'],
      subcomponents: [],
      status: 'fixed',
    });
  });

  it('reads subcomponents and returns frozen data', () => {
    const parsed = parseOpenVex(VEXCTL_SUBCOMPONENTS, 'scout.vex.json');
    expect(parsed.statements[0]?.subcomponents).toEqual(['pkg:npm/express@4.17.1', 'pkg:npm/qs@6.7.0']);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.isFrozen(parsed.statements[0]?.products)).toBe(true);
  });
});

describe('parseOpenVex reports every problem with its path', () => {
  it('rejects a justification outside the closed list', () => {
    const err = thrown(() =>
      parseOpenVex(doc([notAffected('pkg:npm/a@1.0.0', { justification: 'not_exploitable' })]), 'x.json'),
    );
    expect(err.code).toBe('KILN_CONFIG_INVALID');
    expect(err.message).toMatch(/^x\.json is not a valid OpenVEX document \(1 problem\):/);
    expect(err.details?.problems).toEqual([
      'statements[0].justification: "not_exploitable" is not an OpenVEX justification (use one of component_not_present, vulnerable_code_not_present, vulnerable_code_not_in_execute_path, vulnerable_code_cannot_be_controlled_by_adversary, inline_mitigations_already_exist)',
    ]);
  });

  it('lists missing and misplaced fields of the document and of each statement', () => {
    const text = JSON.stringify({
      '@context': 'https://openvex.dev/ns/v0.2.0',
      author: '  ',
      timestamp: 'yesterday',
      version: 0,
      statements: [
        { vulnerability: { name: 'CVE-2024-0001' }, products: [{ '@id': 'pkg:npm/a@1' }], status: 'not_affected' },
        { vulnerability: 'CVE-2024-0002', products: [{ '@id': 'pkg:npm/a@1' }], status: 'affected' },
        { vulnerability: {}, products: [], status: 'fixed', justification: 'component_not_present' },
        { vulnerability: { name: 'CVE-1' }, products: [{ hashes: undefined }], status: 'maybe' },
        'not a statement',
      ],
    });
    const err = thrown(() => parseOpenVex(text, 'vex/bad.json'));
    expect(err.details?.problems).toEqual([
      '@id: required',
      'author: expected a non-empty string, found "  "',
      'timestamp: expected an RFC 3339 date-time like 2023-01-08T18:02:03Z, found "yesterday"',
      'version: expected an integer ≥ 1 (raise it on every change), found 0',
      'statements[0].justification: required when status is not_affected (or give impact_statement)',
      'statements[1].vulnerability: expected an object like {"name": "CVE-2021-44228"}, found "CVE-2024-0002"',
      'statements[1].action_statement: required when status is affected (say what users should do)',
      'statements[2].vulnerability.name: required',
      'statements[2].justification: only allowed when status is not_affected (this statement is fixed)',
      'statements[2].products: expected a non-empty array of products like {"@id": "pkg:npm/app@1.0.0"}, found []',
      'statements[3].status: expected one of not_affected, affected, fixed, under_investigation, found "maybe"',
      'statements[3].products[0]: names no component: give "@id" (a purl such as pkg:npm/app@1.0.0) or identifiers.purl',
      'statements[4]: expected an object, found "not a statement"',
    ]);
    expect(err.message).toContain('(13 problems)');
  });

  it('rejects other JSON documents and unknown contexts', () => {
    expect(thrown(() => parseOpenVex('[]', 'a.json')).details?.problems).toEqual([
      '(document): expected a JSON object with @context, @id, author, timestamp, version and statements',
    ]);
    const cyclonedx = JSON.stringify({
      ...JSON.parse(doc([notAffected('pkg:npm/a@1')])),
      '@context': 'https://cyclonedx.org/',
    });
    expect(thrown(() => parseOpenVex(cyclonedx, 'b.json')).details?.problems).toEqual([
      '@context: expected "https://openvex.dev/ns/v0.2.0" (or https://openvex.dev/ns… of older versions), found "https://cyclonedx.org/"',
    ]);
    expect(thrown(() => parseOpenVex(doc([]), 'c.json')).details?.problems).toEqual([
      'statements: expected a non-empty array of statements, found []',
    ]);
  });

  it('names file, line and column of a JSON syntax error', () => {
    const err = thrown(() =>
      parseOpenVex('{\n  "@context": "https://openvex.dev/ns/v0.2.0",\n  "statements": [,]\n}', 'vex.json'),
    );
    expect(err.code).toBe('KILN_CONFIG_INVALID');
    expect(err.message).toMatch(/^vex\.json:3:18: not valid JSON: expected a value or '\]', found ",\]/);
    expect(err.details).toMatchObject({ file: 'vex.json', line: 3, column: 18 });
  });
});

describe('vexSuppression', () => {
  const parse = (text: string): VexDocument => parseOpenVex(text, 'test.vex.json');

  it('suppresses by an alias of the finding (the spec example: GHSA id for log4shell)', () => {
    const spring = parse(SPEC_SPRING);
    const purl = 'pkg:maven/org.springframework.boot/spring-boot@2.6.0-M3';
    expect(vexSuppression([spring], { ids: ['GHSA-jfh8-c2jp-5v3q'], purl })?.vulnerability).toBe('CVE-2021-44228');
    expect(vexSuppression([spring], { ids: ['cve-2021-44228'], purl })).toBeDefined();
    expect(vexSuppression([spring], { ids: ['CVE-2021-45046'], purl })).toBeUndefined();
    expect(vexSuppression([spring], { ids: ['CVE-2021-44228'], purl: purl.replace('M3', 'M4') })).toBeUndefined();
  });

  it('matches subcomponents only within the product the artifact is', () => {
    const scout = parse(VEXCTL_SUBCOMPONENTS);
    const ids = ['CVE-2022-24999'];
    const artifactPurl = 'pkg:docker/example/scout-demo-service@v1';
    expect(vexSuppression([scout], { ids, purl: 'pkg:npm/qs@6.7.0', artifactPurl })?.justification).toBe(
      'vulnerable_code_not_in_execute_path',
    );
    // Without our product's purl a subcomponent statement is about someone else's product: no waiver.
    expect(vexSuppression([scout], { ids, purl: 'pkg:npm/qs@6.7.0' })).toBeUndefined();
    const withQualifiers = { ids, purl: 'pkg:npm/qs@6.7.0?arch=any#lib', artifactPurl }; // qualifiers, subpath
    expect(vexSuppression([scout], withQualifiers)).toBeDefined();
    expect(vexSuppression([scout], { ids, purl: 'pkg:npm/qs@6.7.1', artifactPurl })).toBeUndefined();
    expect(
      vexSuppression([scout], { ids, purl: 'pkg:npm/qs@6.7.0', artifactPurl: 'pkg:docker/other@v1' }),
    ).toBeUndefined();
    expect(vexSuppression([scout], { ids, purl: 'pkg:npm/body-parser@1.19.0', artifactPurl })).toBeUndefined();
  });

  it('lets a product purl without version match every version, however the scope is encoded', () => {
    const vex = parse(doc([notAffected('pkg:npm/%40babel/core')]));
    for (const purl of ['pkg:npm/@babel/core@7.0.0', 'pkg:npm/%40babel/core@7.24.1', 'pkg:NPM/%40babel/core@1']) {
      expect(vexSuppression([vex], { ids: ['CVE-2024-0001'], purl })).toBeDefined();
    }
    expect(vexSuppression([vex], { ids: ['CVE-2024-0001'], purl: 'pkg:npm/@babel/core-js@7.0.0' })).toBeUndefined();
    expect(vexSuppression([vex], { ids: ['CVE-2024-0001'], purl: 'pkg:pypi/core@7.0.0' })).toBeUndefined();
  });

  it('rules out every component when the artifact itself is the product and no subcomponent is named', () => {
    const vex = parse(doc([notAffected('pkg:oci/app@sha256%3Aabc')]));
    const finding = { ids: ['GHSA-aaaa-bbbb-cccc'], purl: 'pkg:npm/lodash@4.17.20' };
    expect(vexSuppression([vex], { ...finding, artifactPurl: 'pkg:oci/app@sha256%3Aabc?tag=1' })).toBeDefined();
    expect(vexSuppression([vex], finding)).toBeUndefined();
  });

  it('lets a later affected statement override an earlier not_affected one, across documents', () => {
    const purl = 'pkg:npm/a@1.0.0';
    const early = parse(doc([notAffected(purl)], '2024-01-01T00:00:00Z'));
    const late = parse(
      doc(
        [
          {
            ...notAffected(purl),
            status: 'affected',
            justification: undefined,
            action_statement: 'Upgrade a to 1.0.1',
          },
        ],
        '2024-02-01T00:00:00Z',
      ),
    );
    const finding = { ids: ['CVE-2024-0001'], purl };
    expect(vexSuppression([early], finding)).toBeDefined();
    expect(vexSuppression([early, late], finding)).toBeUndefined();
    expect(vexSuppression([late, early], finding)).toBeUndefined(); // by timestamp, not by argument order
  });

  it('orders by statement timestamp first, then by document order', () => {
    const purl = 'pkg:npm/a@1.0.0';
    const affected = {
      ...notAffected(purl),
      status: 'affected',
      justification: undefined,
      action_statement: 'Upgrade',
    };
    // Listed last but stated earlier (timestamp in another zone): the not_affected statement still wins.
    const reordered = parse(doc([notAffected(purl), { ...affected, timestamp: '2023-12-31T23:00:00-00:30' }]));
    expect(vexSuppression([reordered], { ids: ['CVE-2024-0001'], purl })?.status).toBe('not_affected');
    // Same instant: the later statement in the document wins.
    const tie = parse(doc([notAffected(purl), affected]));
    expect(vexSuppression([tie], { ids: ['CVE-2024-0001'], purl })).toBeUndefined();
  });

  it('does not suppress on fixed, under_investigation or unrelated statements', () => {
    const inherit = parse(SPEC_INHERITANCE);
    expect(vexSuppression([inherit], { ids: ['CVE-2023-12345'], purl: 'pkg:apk/wolfi/git@2.39.0-r1' })).toBeUndefined();
    expect(vexSuppression([], { ids: ['CVE-2023-12345'], purl: 'pkg:apk/wolfi/git@2.39.0-r1' })).toBeUndefined();
  });
});
