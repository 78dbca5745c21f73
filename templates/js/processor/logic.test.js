import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configure, process } from './logic.js';

test('passes batches on', () => {
  configure({});
  const payload = Uint8Array.of(0x0a, 0x00);
  assert.deepEqual(process('traces', payload), [payload]);
});

test('refuses a config that is not a map', () => {
  assert.throws(() => configure([1]), /must be a map/);
});
