// Dropping health-check spans from an ExportTraceServiceRequest, on the wire
// format. A span is a health check when its name, or the string value of
// one of the configured attributes, equals one of the configured paths.
// Scopes and resources left without spans are removed, and a request left
// empty becomes nothing, as the Rust `filter` processor does.

import { LEN, Writer, forEachField } from './wire.js';

export const DEFAULTS = {
  paths: ['/health', '/healthz', '/ready'],
  attributes: ['http.route', 'url.path'],
};

// Field numbers (opentelemetry/proto/trace/v1, common/v1).
const REQUEST_RESOURCE_SPANS = 1;
const RESOURCE_SPANS_SCOPE_SPANS = 2;
const SCOPE_SPANS_SPANS = 2;
const SPAN_NAME = 5;
const SPAN_ATTRIBUTES = 9;
const KEY_VALUE_KEY = 1;
const KEY_VALUE_VALUE = 2;
const ANY_VALUE_STRING = 1;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Checks a config object; returns the settings or throws an Error whose
 * message says which key is wrong. */
export function configure(config) {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new Error('config must be a map');
  }
  for (const key of Object.keys(config)) {
    if (!(key in DEFAULTS)) {
      throw new Error(`unknown key \`${key}\` (expected \`paths\`, \`attributes\`)`);
    }
  }
  const list = (key) => {
    const value = config[key] ?? DEFAULTS[key];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      throw new Error(`\`${key}\` must be a list of strings`);
    }
    return new Set(value);
  };
  return { paths: list('paths'), attributes: list('attributes') };
}

function text(buf, start, end) {
  return utf8.decode(buf.subarray(start, end));
}

/** The string value of an AnyValue, or null. */
function anyString(buf, start, end) {
  let value = null;
  forEachField(buf, start, end, (n, w, _fs, vs, ve) => {
    if (n === ANY_VALUE_STRING && w === LEN) value = text(buf, vs, ve);
  });
  return value;
}

function isHealthCheck(settings, buf, start, end) {
  let hit = false;
  forEachField(buf, start, end, (n, w, _fs, vs, ve) => {
    if (hit || w !== LEN) return;
    if (n === SPAN_NAME) {
      hit = settings.paths.has(text(buf, vs, ve));
    } else if (n === SPAN_ATTRIBUTES && settings.attributes.size > 0) {
      let key = null;
      let value = null;
      forEachField(buf, vs, ve, (kn, kw, _kfs, kvs, kve) => {
        if (kw !== LEN) return;
        if (kn === KEY_VALUE_KEY) key = text(buf, kvs, kve);
        else if (kn === KEY_VALUE_VALUE) value = anyString(buf, kvs, kve);
      });
      hit = key !== null && settings.attributes.has(key) && value !== null && settings.paths.has(value);
    }
  });
  return hit;
}

/** Copies the message buf[start, end), passing each `child` field through
 * `keepChild(vs, ve)`, which returns a Writer (the child's new bytes) or
 * null (drop it). Returns the Writer and how many children were kept. */
function rebuild(buf, start, end, child, keepChild) {
  const out = new Writer();
  let kept = 0;
  forEachField(buf, start, end, (n, w, fs, vs, ve) => {
    if (n !== child || w !== LEN) {
      out.bytes(buf.subarray(fs, ve));
      return;
    }
    const inner = keepChild(vs, ve);
    if (inner !== null) {
      out.message(n, inner);
      kept += 1;
    }
  });
  return { out, kept };
}

/** Returns { payload, dropped }: payload is the request without its
 * health-check spans, or null when nothing is left. */
export function dropHealthChecks(settings, buf) {
  let dropped = 0;
  const span = (vs, ve) => {
    if (isHealthCheck(settings, buf, vs, ve)) {
      dropped += 1;
      return null;
    }
    const w = new Writer();
    w.bytes(buf.subarray(vs, ve));
    return w;
  };
  const scope = (vs, ve) => {
    const { out, kept } = rebuild(buf, vs, ve, SCOPE_SPANS_SPANS, span);
    return kept > 0 ? out : null;
  };
  const resource = (vs, ve) => {
    const { out, kept } = rebuild(buf, vs, ve, RESOURCE_SPANS_SCOPE_SPANS, scope);
    return kept > 0 ? out : null;
  };
  const { out, kept } = rebuild(buf, 0, buf.length, REQUEST_RESOURCE_SPANS, resource);
  return { payload: kept > 0 ? out.finish() : null, dropped };
}
