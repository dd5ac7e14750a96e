// Secrets of kiln-server.yaml are references; this reads one when it is needed. No process access here: the caller
// passes the environment and a file reader. Errors name the project, the key and the variable or file, never the value.
import { KilnError } from '../core/errors.js';
import type { SecretRef } from './server-config.js';

/** What resolving a secret may read. */
export interface SecretSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => Promise<string>;
  /** Told every secret value read, so the process can redact it from what it writes. */
  readonly onSecret?: ((value: string) => void) | undefined;
}

/** The secret `ref` points at; throws KILN_CONFIG_INVALID when it is missing, empty or not in its format. */
export async function resolveSecret(ref: SecretRef, sources: SecretSources): Promise<string> {
  const where = `project "${ref.project}" ${ref.key}`;
  let value: string;
  if (ref.kind === 'env') {
    value = sources.env[ref.env] ?? '';
    if (value === '') {
      throw new KilnError('KILN_CONFIG_INVALID', `${where}: environment variable ${ref.env} is not set or empty`, {
        hint: `set ${ref.env} in the environment of the Kiln server, or reference a file: { file: PATH }`,
      });
    }
  } else {
    try {
      value = (await sources.readFile(ref.file)).replace(/\r?\n$/, '');
    } catch (cause) {
      const code = (cause as { code?: unknown } | null)?.code;
      throw new KilnError(
        'KILN_CONFIG_INVALID',
        `${where}: cannot read secret file ${ref.file}${typeof code === 'string' ? ` (${code})` : ''}`,
        { cause, hint: `create ${ref.file}, readable by the Kiln server, holding the secret alone` },
      );
    }
    if (value === '') {
      throw new KilnError('KILN_CONFIG_INVALID', `${where}: secret file ${ref.file} is empty`, {
        hint: `write the secret into ${ref.file}`,
      });
    }
  }
  sources.onSecret?.(value);
  if (ref.format === 'whsec') {
    checkStandardWebhookSecret(value, where, ref);
    sources.onSecret?.(value.slice('whsec_'.length)); // the key's base64, as a signing library may print it
  }
  return value;
}

/** Standard Webhooks keys are `whsec_` + base64 of 24 to 64 random bytes. The message never shows the value. */
function checkStandardWebhookSecret(value: string, where: string, ref: SecretRef): void {
  const body = value.startsWith('whsec_') ? value.slice('whsec_'.length) : undefined;
  const bytes = body !== undefined && /^[A-Za-z0-9+/]+={0,2}$/.test(body) ? Buffer.from(body, 'base64').length : 0;
  if (bytes >= 24 && bytes <= 64) return;
  const source = ref.kind === 'env' ? `environment variable ${ref.env}` : `file ${ref.file}`;
  throw new KilnError(
    'KILN_CONFIG_INVALID',
    `${where}: the secret in ${source} is not a Standard Webhooks key (expected whsec_ followed by base64 of 24 to 64 bytes)`,
    { hint: 'generate one with: echo "whsec_$(head -c 32 /dev/urandom | base64)"' },
  );
}
