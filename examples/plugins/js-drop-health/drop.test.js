// Unit tests of drop.js under node: requests built here with wire.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configure, dropHealthChecks } from './drop.js';
import { Writer, LEN } from './wire.js';

const enc = new TextEncoder();

function str(w, number, s) {
  const b = enc.encode(s);
  w.varint(number * 8 + LEN);
  w.varint(b.length);
  w.bytes(b);
}

function span(name, attrs = {}) {
  const s = new Writer();
  str(s, 5, name);
  for (const [k, v] of Object.entries(attrs)) {
    const any = new Writer();
    str(any, 1, v);
    const kv = new Writer();
    str(kv, 1, k);
    kv.message(2, any);
    s.message(9, kv);
  }
  return s;
}

/** resources: list of scopes; scope: list of spans. */
function request(resources) {
  const req = new Writer();
  for (const scopes of resources) {
    const rs = new Writer();
    for (const spans of scopes) {
      const ss = new Writer();
      for (const sp of spans) ss.message(2, sp);
      rs.message(2, ss);
    }
    req.message(1, rs);
  }
  return req.finish();
}

test('drops spans by name and by route, prunes what is left empty', () => {
  const settings = configure({});
  const input = request([
    [[span('GET /users'), span('/health')]],
    [[span('GET', { 'http.route': '/healthz' })], [span('x', { 'url.path': '/ready' })]],
  ]);
  const { payload, dropped } = dropHealthChecks(settings, input);
  assert.equal(dropped, 3);
  assert.deepEqual(payload, request([[[span('GET /users')]]]));
});

test('keeps everything when nothing matches, byte for byte', () => {
  const input = request([[[span('GET /users', { 'http.route': '/users/:id' })]]]);
  const { payload, dropped } = dropHealthChecks(configure({}), input);
  assert.equal(dropped, 0);
  assert.deepEqual(payload, input);
});

test('a batch of health checks only becomes nothing', () => {
  const input = request([[[span('/health')]]]);
  assert.equal(dropHealthChecks(configure({}), input).payload, null);
});

test('configured paths and attributes replace the defaults', () => {
  const settings = configure({ paths: ['/ping'], attributes: ['route'] });
  const input = request([[[span('/health'), span('a', { route: '/ping' })]]]);
  const { payload, dropped } = dropHealthChecks(settings, input);
  assert.equal(dropped, 1);
  assert.deepEqual(payload, request([[[span('/health')]]]));
});

test('bad config is refused with the key named', () => {
  assert.throws(() => configure({ path: ['/x'] }), /unknown key `path`/);
  assert.throws(() => configure({ paths: '/x' }), /`paths` must be a list of strings/);
});

test('truncated input is an error', () => {
  const input = request([[[span('/health')]]]);
  assert.throws(() => dropHealthChecks(configure({}), input.subarray(0, input.length - 2)));
});
