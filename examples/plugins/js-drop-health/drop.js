// Dropping health-check spans from an ExportTraceServiceRequest, on the wire
// format. A span is a health check when its name, or the string value of
// one of the configured attributes, equals one of the configured paths.
// Scopes and resources left without spans are removed, and a request left
// empty becomes nothing, as the Rust `filter` processor does.
//
// The interpreter has no JIT inside the sandbox, so the hot path avoids
// work per field: names and keys are compared as bytes (no string
// decoding), and a scope with nothing to drop is copied as one slice.

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

const utf8 = new TextEncoder();

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
    return value.map((v) => utf8.encode(v));
  };
  return { paths: list('paths'), attributes: list('attributes') };
}

/** Whether buf[start, end) is one of `candidates` (Uint8Arrays). */
function isOneOf(candidates, buf, start, end) {
  const length = end - start;
  outer: for (const c of candidates) {
    if (c.length !== length) continue;
    for (let i = 0; i < length; i++) {
      if (c[i] !== buf[start + i]) continue outer;
    }
    return true;
  }
  return false;
}

function isHealthCheck(settings, buf, start, end) {
  let hit = false;
  forEachField(buf, start, end, (n, w, _fs, vs, ve) => {
    if (hit || w !== LEN) return;
    if (n === SPAN_NAME) {
      hit = isOneOf(settings.paths, buf, vs, ve);
    } else if (n === SPAN_ATTRIBUTES && settings.attributes.length > 0) {
      // A KeyValue: is the key one of ours, and its string value a path?
      let keyMatches = false;
      let valueStart = -1;
      let valueEnd = -1;
      forEachField(buf, vs, ve, (kn, kw, _kfs, kvs, kve) => {
        if (kw !== LEN) return;
        if (kn === KEY_VALUE_KEY) keyMatches = isOneOf(settings.attributes, buf, kvs, kve);
        else if (kn === KEY_VALUE_VALUE) [valueStart, valueEnd] = [kvs, kve];
      });
      let valueMatches = false;
      if (keyMatches && valueStart >= 0) {
        forEachField(buf, valueStart, valueEnd, (an, aw, _afs, avs, ave) => {
          valueMatches = an === ANY_VALUE_STRING && aw === LEN && isOneOf(settings.paths, buf, avs, ave);
        });
      }
      hit = keyMatches && valueMatches;
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
  const scope = (vs, ve) => {
    // First pass: which spans go. Nothing to drop: the scope as it is.
    const drop = [];
    let spans = 0;
    forEachField(buf, vs, ve, (n, w, fs, svs, sve) => {
      if (n !== SCOPE_SPANS_SPANS || w !== LEN) return;
      spans += 1;
      if (isHealthCheck(settings, buf, svs, sve)) drop.push(fs);
    });
    if (drop.length === 0) {
      const whole = new Writer();
      // An empty scope is removed, as the Rust filter does.
      if (spans === 0) return null;
      whole.bytes(buf.subarray(vs, ve));
      return whole;
    }
    dropped += drop.length;
    if (drop.length === spans) return null;
    const out = new Writer();
    let d = 0;
    forEachField(buf, vs, ve, (n, w, fs, _svs, sve) => {
      if (n === SCOPE_SPANS_SPANS && w === LEN && d < drop.length && drop[d] === fs) {
        d += 1;
        return;
      }
      out.bytes(buf.subarray(fs, sve));
    });
    return out;
  };
  const resource = (vs, ve) => {
    const { out, kept } = rebuild(buf, vs, ve, RESOURCE_SPANS_SCOPE_SPANS, scope);
    return kept > 0 ? out : null;
  };
  const { out, kept } = rebuild(buf, 0, buf.length, REQUEST_RESOURCE_SPANS, resource);
  return { payload: kept > 0 ? out.finish() : null, dropped };
}
