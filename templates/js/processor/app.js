// Binds {{name}} to the processor-plugin world (weir:plugin@0.1.0). The
// logic is in logic.js, which runs under node in its tests.

import { counterAdd } from 'weir:plugin/host@0.1.0';
import { configure, process as processPayload } from './logic.js';

export const processor = {
  init(configJson) {
    try {
      configure(JSON.parse(configJson || '{}'));
    } catch (e) {
      // A thrown { tag, val } is the plugin-error variant.
      throw { tag: 'invalid-config', val: e.message };
    }
    return { signals: { traces: true, metrics: true, logs: true }, stateful: false };
  },

  process(_ctx, batch) {
    let payloads;
    try {
      payloads = processPayload(batch.signal, batch.payload);
    } catch (e) {
      throw { tag: 'rejected', val: e.message };
    }
    counterAdd('batches', 1n);
    return payloads.map((payload) => ({ signal: batch.signal, payload }));
  },

  tick(_now) {
    return [];
  },

  flush() {
    return [];
  },
};
