// An in-process Kiln for use-case tests: the embedded ports over a temp home, with a signer whose key was made in
// memory (real ECDSA), and every event kept, stamped as the CLI's are.
import { createKiln, embeddedPorts, type Kiln, type KilnPorts } from '../../src/app/index.js';
import { generateKeyPair, loadSigner, type Signer } from '../../src/attest/index.js';
import { type EventSink, eventSink, type KilnEvent, type TimedEvent } from '../../src/core/events.js';
import { tempDir } from './tmp.js';

/** A Kiln for one test and what it observed. */
export interface Harness {
  readonly kiln: Kiln;
  /** The ports the Kiln runs over (its store, …). */
  readonly ports: KilnPorts;
  readonly home: string;
  readonly signer: Signer;
  readonly events: TimedEvent[];
  /** The events of one kind, typed. */
  of<K extends KilnEvent['kind']>(kind: K): Extract<TimedEvent, { kind: K }>[];
}

/**
 * A Kiln over a fresh home in `cwd` (removed after the test, unless `home` names one, e.g. a beforeAll fixture's);
 * `overrides` replace ports (an artifact target, …), given the event sink.
 */
export function harness(opts: {
  cwd: string;
  home?: string;
  overrides?: (events: EventSink) => Partial<KilnPorts>;
}): Harness {
  const home = opts.home ?? tempDir('kiln-home-');
  const signer = loadSigner(generateKeyPair('ecdsa-p256').privateKeyPem, 'the test key');
  const events: TimedEvent[] = [];
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  const ports = embeddedPorts({
    home,
    env,
    cwd: opts.cwd,
    version: '0.0.0-test',
    events: eventSink(
      () => new Date(),
      (e) => events.push(e),
    ),
    parallelism: 2,
  });
  const kiln = createKiln({
    ...ports,
    signer: async () => ({ signer, source: 'the test key', created: false }),
    ...opts.overrides?.(ports.events),
  });
  const of = <K extends KilnEvent['kind']>(kind: K) =>
    events.filter((e): e is Extract<TimedEvent, { kind: K }> => e.kind === kind);
  return { kiln, ports, home, signer, events, of };
}
