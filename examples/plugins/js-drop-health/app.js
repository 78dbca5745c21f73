// A Weir processor in JavaScript: drops health-check spans. The logic is in
// drop.js (plain JavaScript, testable with node); this file binds it to the
// processor-plugin world (weir:plugin@0.1.0).
//
// Config (JSON from the component's YAML block, every key optional):
//   paths:      the health-check paths (default ["/health", "/healthz", "/ready"])
//   attributes: span attributes holding a route or path
//               (default ["http.route", "url.path"]); the span name is always checked

import { counterAdd } from 'weir:plugin/host@0.1.0';
import { configure, dropHealthChecks } from './drop.js';

let settings = configure({});

export const processor = {
  init(configJson) {
    try {
      settings = configure(JSON.parse(configJson || '{}'));
    } catch (e) {
      throw { tag: 'invalid-config', val: e.message };
    }
    return { signals: { traces: true, metrics: false, logs: false }, stateful: false };
  },

  process(_ctx, batch) {
    if (batch.signal !== 'traces') return [batch];
    let result;
    try {
      result = dropHealthChecks(settings, batch.payload);
    } catch (e) {
      throw { tag: 'rejected', val: `cannot decode ExportTraceServiceRequest: ${e.message}` };
    }
    if (result.dropped > 0) counterAdd('dropped_items', BigInt(result.dropped));
    return result.payload === null ? [] : [{ signal: 'traces', payload: result.payload }];
  },

  tick(_now) {
    return [];
  },

  flush() {
    return [];
  },
};
