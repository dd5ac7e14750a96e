// The runner a build asked for: the bubblewrap sandbox by default, the host runner only when asked for by name.
import { KilnError } from '../core/errors.js';
import { bubblewrapRunner, probeBubblewrap } from './bwrap.js';
import { hostRunner } from './host.js';
import type { StepRunner } from './runner.js';

/** A success of the probe, once per process (a worker builds many times); a failure is probed again next time. */
let working: Promise<void> | undefined;

/** A runner of `kind`; the sandbox hides `hidden` (the Kiln home: keys, cache, store) from every step. */
export function chooseRunner(kind: 'bubblewrap' | 'host' | undefined, opts: { hidden: readonly string[] }): StepRunner {
  if (kind === 'host') return hostRunner();
  // Probed in the background (~11 ms): a build that runs no step (an up-to-date one) never waits for it.
  working ??= probeBubblewrap().then((result) => {
    if (!result.ok) {
      working = undefined;
      throw new KilnError('KILN_SANDBOX', result.reason, {
        hint: 'install bubblewrap (apt-get install bubblewrap) so steps run sandboxed, or pass --runner host to build without isolation (provenance will say so)',
      });
    }
  });
  const probe = working;
  probe.catch(() => undefined); // reported where ready() is awaited, never as an unhandled rejection
  return { ...bubblewrapRunner({ hidden: [...opts.hidden] }), ready: () => probe };
}
