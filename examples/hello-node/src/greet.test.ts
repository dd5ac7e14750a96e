import assert from 'node:assert/strict';
import { test } from 'node:test';
import { greet } from './greet.js';

test('greets by name with a readable duration', () => {
  const text = greet('Ada', 2 * 60 * 60 * 1000);
  assert.match(text, /Ada/);
  assert.match(text, /2 hours ago/);
});
