// The kiln.yaml schema: the one source for validation, types and the editor JSON Schema.
import * as z from 'zod'; // a namespace import: `{ z }` would bundle all 64 zod locales

/** A step, artifact or project name (kiln.yaml `name`, kiln-server.yaml `projects[].name`). */
export const STEP_NAME = /^[a-z0-9][a-z0-9._-]*$/;
/** A step, or one package's step of a perPackage template: `build:@scope/pkg`. */
const STEP_REF = /^[a-z0-9][a-z0-9._-]*(:[@a-zA-Z0-9._/-]+)?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
    message: 'must be a relative path inside the project (no leading "/" and no "..")',
  });
/** A step input: relative, and `..` only where a perPackage step climbs from its package (checked per step below). */
const inputPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/'), { message: 'must be a relative path (no leading "/")' });
/** A step output: a plain path, since outputs are checked and cached as named (decisions/0031). */
const outputPath = relPath.refine((p) => !/[*?]/.test(p), {
  message: 'must be a file or directory path, not a glob: name the directory that holds the files (e.g. "dist")',
});

/** One build step: a shell command with declared inputs, outputs and upstream steps. */
export const StepSchema = z
  .strictObject({
    run: z.string().min(1).optional().describe('Shell command run with `sh -c` in the step work directory.'),
    perPackage: z
      .boolean()
      .default(false)
      .describe(
        'Expand into one step per workspace package (npm, yarn, pnpm), named <step>:<package>, ordered by their dependencies; inputs and outputs are relative to each package.',
      ),
    script: z
      .string()
      .min(1)
      .optional()
      .describe(
        'With perPackage: the package.json script to run (its body, directly, not through npm run); packages without it get no step.',
      ),
    needs: z.array(z.string().regex(STEP_REF)).default([]).describe('Steps that must finish first.'),
    inputs: z
      .array(inputPath)
      .default([])
      .describe(
        'Files or globs the step reads (relative to the project; with perPackage, to each package, and "../" may reach files of the project root).',
      ),
    outputs: z.array(outputPath).default([]).describe('Files or directories (not globs) the step produces.'),
    env: z
      // A NUL cannot be passed in an environment variable: refused here, not when the step starts.
      .record(
        z.string().regex(ENV_NAME),
        z.string().refine((v) => !v.includes('\0'), 'must not contain a NUL character'),
      )
      .default({})
      .describe('Environment variables; nothing else from the caller is passed.'),
    network: z.boolean().default(false).describe('Allow network access (recorded in provenance).'),
    timeout: z
      .number()
      .int()
      .positive()
      .max(7 * 24 * 3600)
      .default(3600)
      .describe('Seconds after which the step and everything it started are stopped and the step fails.'),
    retries: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(0)
      .describe(
        'Times the step runs again, each in a fresh directory, when its command exits non-zero (never after a timeout, a resource limit, missing outputs or an interrupt). A step that fails, then passes is recorded as flaky.',
      ),
  })
  .refine((s) => (s.run === undefined) !== (s.script === undefined), {
    message: 'give exactly one of "run" (a command) or "script" (a package.json script, with perPackage: true)',
  })
  .refine((s) => s.script === undefined || s.perPackage, {
    message: '"script" runs a package.json script in each workspace package: add perPackage: true, or use run',
  })
  .superRefine((s, ctx) => {
    // A package's step may name a root file (`../../tsconfig.json`); planning refuses one that leaves the project.
    if (s.perPackage) return;
    for (const [i, p] of s.inputs.entries()) {
      if (p.split('/').includes('..')) {
        const message = 'must stay inside the project (no ".."); only perPackage steps may climb from their package';
        ctx.addIssue({ code: 'custom', path: ['inputs', i], message });
      }
    }
  });

/** A file or directory produced by a step that Kiln packages, signs and publishes. */
export const ArtifactSchema = z.strictObject({
  name: z.string().regex(STEP_NAME).describe('Artifact name, used for file names and OCI refs.'),
  from: z.string().regex(STEP_REF).describe('The step that produces it (for a perPackage step: <step>:<package>).'),
  path: relPath.describe('Path of the output, relative to the project.'),
  format: z.enum(['tgz', 'file']).default('tgz').describe('tgz: deterministic tar.gz of a directory; file: as is.'),
});

/** Where the signing key comes from when neither --key nor KILN_SIGNING_KEY is given. */
export const SigningSchema = z.strictObject({
  key: z.string().min(1).describe('Path to a PEM private key (PKCS#8, ECDSA P-256 or Ed25519).'),
});

/** Where step results are cached and whose cache entries are trusted. */
export const CacheSchema = z.strictObject({
  remote: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(
      'Bazel HTTP remote cache base URL (also KILN_REMOTE_CACHE); the Authorization header comes from KILN_REMOTE_CACHE_AUTH.',
    ),
  trust: z
    .array(relPath)
    .default([])
    .describe(
      'Public keys (PEM files, relative to the project) whose signed cache entries are accepted besides your own.',
    ),
});

/** What each step may use; a step that hits a limit fails and says which. Generous: npm ci and tsc fit easily. */
export const LimitsSchema = z.strictObject({
  processes: z
    .number()
    .int()
    .min(8)
    .default(4096)
    .describe('Processes and threads a step may have at once (with a cgroup: the whole step; else per user).'),
  memory: z
    .number()
    .int()
    .min(16)
    .default(8192)
    .describe('MiB of memory a step may use (with a cgroup: all its processes together; else each process).'),
  openFiles: z.number().int().min(16).default(4096).describe('Open files per process of a step.'),
  output: z.number().int().min(1).default(1024).describe('MiB of output (stdout and stderr) a step may write.'),
});

/** What the steps run with: more host tools in the builder digest, or a builder rootfs pinned by digest. */
export const SandboxSchema = z
  .strictObject({
    tools: z
      .array(z.string().regex(/^[A-Za-z0-9._+-]+$/, 'expected a command name, as found on PATH'))
      .default([])
      .describe(
        'Host tools the steps use besides sh, bash, node, npm, npx, git, tar, gzip, cp and find (e.g. python3, gcc): their binaries and versions become part of the builder digest.',
      ),
    rootfs: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Builder root filesystem directory (absolute, or relative to the project directory), shown read-only at / in the sandbox instead of the host toolchain.',
      ),
    digest: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 lowercase hex>')
      .optional()
      .describe('The rootfs digest the build must find (printed by every build that uses the rootfs).'),
  })
  .refine((s) => s.digest === undefined || s.rootfs !== undefined, {
    message: '"digest" pins a builder rootfs: give "rootfs" too',
  })
  .refine((s) => s.rootfs === undefined || s.tools.length === 0, {
    message: '"tools" adds host tools; with a "rootfs" every file of it is already in the builder digest',
  });

const SEVERITY = z.enum(['none', 'low', 'medium', 'high', 'critical']);

/** Which vulnerabilities block publishing, and statements that some do not affect this project. */
export const VulnerabilityPolicySchema = z.strictObject({
  failOn: SEVERITY.default('critical').describe(
    'Block the build when a vulnerability of this severity or higher is found ("none": never block on severity).',
  ),
  unscored: z
    .enum(['allow', 'warn', 'block'])
    .default('warn')
    .describe('What to do with a vulnerability whose record gives no severity.'),
  vex: z
    .array(relPath)
    .default([])
    .describe('OpenVEX documents (relative to the project): not_affected statements suppress findings.'),
});

/** Which licenses the dependencies may carry. */
export const LicensePolicySchema = z.strictObject({
  allow: z
    .array(z.string().min(1))
    .optional()
    .describe('SPDX license ids allowed; when given, every other license is denied.'),
  deny: z.array(z.string().min(1)).default([]).describe('SPDX license ids denied (deny wins over allow).'),
  unknown: z
    .enum(['allow', 'warn', 'block'])
    .default('warn')
    .describe('What to do with a dependency whose license is not known or not an SPDX expression.'),
});

/** One accepted finding: a vulnerability (optionally in one package) that does not block until it expires. */
export const PolicyExceptionSchema = z.strictObject({
  id: z.string().min(1).describe('Vulnerability id or alias (GHSA-…, CVE-…), or a license id for a license finding.'),
  package: z.string().min(1).optional().describe('Only in this package (name, or purl); default: every package.'),
  reason: z.string().min(1).describe('Why it is accepted: shown with every build it applies to.'),
  expires: z.iso
    .date()
    .describe('Last day (YYYY-MM-DD, UTC) the exception applies; after it the finding blocks again.'),
});

/** The gate between a built artifact and its publication. */
export const PolicySchema = z.strictObject({
  vulnerabilities: VulnerabilityPolicySchema.default({ failOn: 'critical', unscored: 'warn', vex: [] }),
  licenses: LicensePolicySchema.default({ deny: [], unknown: 'warn' }),
  require: z
    .array(z.enum(['sbom', 'signature', 'hermetic', 'vulnerability-data']))
    .default(['sbom', 'signature'])
    .describe(
      'Evidence the artifact must have: sbom, signature, hermetic (every step sandboxed without network), vulnerability-data (imported OSV records to scan against).',
    ),
  exceptions: z.array(PolicyExceptionSchema).default([]),
});

/** `host[:port]/path` of an OCI repository, without tag or digest. */
const REPOSITORY = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/,
    'expected registry/repository, e.g. 127.0.0.1:5000/team/app (lower case, no tag or digest)',
  );
const TAG = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, 'expected an OCI tag: [A-Za-z0-9_][A-Za-z0-9._-]*');
const ENV_KEY = /^[a-z][a-z0-9-]*$/;

/** Publishing to an OCI registry at the end of every build the gate passes (besides the local OCI layout). */
export const PublishSchema = z.strictObject({
  to: REPOSITORY.describe(
    'The repository every artifact is pushed to (one artifact), or under (several: <to>/<name>).',
  ),
  tags: z.array(TAG).default([]).describe('Tags to set on each artifact (the digest is always printed).'),
  mutableTags: z
    .array(TAG)
    .default([])
    .describe('Tags that may move to another digest; every other tag is immutable once set.'),
  insecure: z
    .boolean()
    .default(false)
    .describe('Allow plain http to a registry that is not on loopback (loopback may always use http).'),
});

/** One deployment environment artifacts are promoted to, by digest. */
export const EnvironmentSchema = z.strictObject({
  repository: REPOSITORY.describe('Where promoted artifacts are copied (blobs, manifest and all evidence).'),
  tag: TAG.optional().describe('The tag that points at what the environment runs (default: the environment name).'),
  after: z
    .string()
    .regex(ENV_KEY)
    .optional()
    .describe('An environment the artifact must have been promoted to first (dev → staging → prod).'),
  protected: z
    .boolean()
    .default(false)
    .describe('Keep everything ever promoted here for the rollback window, whatever else retention says.'),
});

/** What `kiln gc` keeps. */
export const RetentionSchema = z.strictObject({
  keepLast: z.number().int().positive().default(10).describe('Succeeded builds kept per branch (newest first).'),
  rollbackDays: z
    .number()
    .int()
    .nonnegative()
    .default(30)
    .describe('Days an artifact promoted to a protected environment is kept after it was last promoted.'),
});

/** The whole kiln.yaml document. */
export const KilnConfigSchema = z.strictObject({
  name: z.string().regex(STEP_NAME).describe('Project name.'),
  steps: z.record(z.string().regex(STEP_NAME), StepSchema).describe('Build steps by name.'),
  artifacts: z.array(ArtifactSchema).min(1).describe('What the build delivers.'),
  signing: SigningSchema.optional(),
  cache: CacheSchema.default({ trust: [] }),
  sandbox: SandboxSchema.optional(),
  limits: LimitsSchema.default({ processes: 4096, memory: 8192, openFiles: 4096, output: 1024 }).describe(
    'Resource limits of every step.',
  ),
  policy: PolicySchema.default({
    vulnerabilities: { failOn: 'critical', unscored: 'warn', vex: [] },
    licenses: { deny: [], unknown: 'warn' },
    require: ['sbom', 'signature'],
    exceptions: [],
  }).describe('What an artifact must satisfy to be published.'),
  publish: PublishSchema.optional(),
  environments: z
    .record(z.string().regex(ENV_KEY), EnvironmentSchema)
    .default({})
    .describe('Deployment environments, for `kiln promote`.'),
  retention: RetentionSchema.default({ keepLast: 10, rollbackDays: 30 }),
  output: relPath.default('kiln-out').describe('Directory (relative to the project) that receives artifacts.'),
});

/** kiln.yaml as validated and defaulted. */
export type KilnConfig = z.output<typeof KilnConfigSchema>;
/** One validated step. */
export type StepConfig = z.output<typeof StepSchema>;
/** One validated environment. */
export type EnvironmentConfig = z.output<typeof EnvironmentSchema>;
/** The validated publish section. */
export type PublishConfig = z.output<typeof PublishSchema>;
/** The validated policy. */
export type PolicyConfig = z.output<typeof PolicySchema>;
/** One validated artifact. */
export type ArtifactConfig = z.output<typeof ArtifactSchema>;

/** Known keys of each object kind, for "did you mean" suggestions. */
export const KNOWN_KEYS = {
  root: Object.keys(KilnConfigSchema.shape),
  step: Object.keys(StepSchema.shape),
  artifact: Object.keys(ArtifactSchema.shape),
  signing: Object.keys(SigningSchema.shape),
  cache: Object.keys(CacheSchema.shape),
  sandbox: Object.keys(SandboxSchema.shape),
  policy: Object.keys(PolicySchema.shape),
  vulnerabilities: Object.keys(VulnerabilityPolicySchema.shape),
  licenses: Object.keys(LicensePolicySchema.shape),
  exception: Object.keys(PolicyExceptionSchema.shape),
  publish: Object.keys(PublishSchema.shape),
  environment: Object.keys(EnvironmentSchema.shape),
  retention: Object.keys(RetentionSchema.shape),
} as const;

/** The JSON Schema editors use for kiln.yaml (committed as schema/kiln.schema.json). */
export function kilnJsonSchema(): unknown {
  return {
    ...z.toJSONSchema(KilnConfigSchema, { io: 'input' }),
    $id: 'https://kiln.dev/schema/kiln.schema.json',
    title: 'kiln.yaml',
  };
}
