import { greet } from './greet.js';

export { greet };

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(greet(process.argv[2] ?? 'world', 90_000));
}
