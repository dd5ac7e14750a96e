// Runs one step in the bubblewrap runner from dist/ and prints its outcome as JSON: the sandbox tests start
// it as another (non-root) user to check what bubblewrap does without root. Usage: node sandbox-run-as.mjs CWD COMMAND
import { join } from 'node:path';
import { bubblewrapRunner } from '../../dist/sandbox/index.js';

const [cwd, command] = process.argv.slice(2);
const outcome = await bubblewrapRunner().run({
  name: 'as-user',
  command,
  cwd,
  env: {},
  network: false,
  logFile: join(cwd, '..', 'step.log'),
});
process.stdout.write(JSON.stringify(outcome));
