// What {{name}} does with a batch: here, nothing (it passes every batch
// on). A batch is the protobuf bytes (a Uint8Array) of one OTLP
// Export*ServiceRequest; see the Weir repository's
// examples/plugins/js-drop-health for a plugin that drops spans on the wire
// format.

export let settings = {};

/** Checks the processor's YAML block (as parsed JSON); throws an Error
 * saying what is wrong. */
export function configure(config) {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new Error('config must be a map');
  }
  settings = config;
}

/** Returns the payloads to pass on (an empty list drops the batch). */
export function process(signal, payload) {
  return [payload];
}
