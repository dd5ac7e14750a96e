import createDebug from 'debug';
import ms from 'ms';
import pc from 'picocolors';

const debug = createDebug('hello-node');

/** A greeting for `name`, saying how long ago `sinceMs` was in words. */
export function greet(name: string, sinceMs: number): string {
  debug('greeting %s', name);
  return `Hello, ${pc.bold(name)}! Last seen ${ms(sinceMs, { long: true })} ago.`;
}
