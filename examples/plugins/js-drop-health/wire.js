// A small OTLP protobuf wire-format reader and writer: enough to walk an
// ExportTraceServiceRequest and copy the parts kept without decoding them.

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

export class WireError extends Error {}

/** Reads a varint at `pos`; returns its value and leaves the next
 * position in `readVarint.next` (no array per call: the interpreter has no
 * JIT in the sandbox). Values past 2^53 lose precision, which is fine:
 * they are only skipped. */
export function readVarint(buf, pos) {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new WireError('truncated varint');
    const b = buf[pos++];
    result += (b & 0x7f) * scale;
    if (b < 0x80) {
      readVarint.next = pos;
      return result;
    }
    scale *= 128;
  }
  throw new WireError('varint longer than 10 bytes');
}
readVarint.next = 0;

/** Calls `visit(number, wire, fieldStart, valueStart, valueEnd)` for each
 * field of the message in buf[start, end). For LEN fields the value is
 * buf[valueStart, valueEnd) without its length prefix. */
export function forEachField(buf, start, end, visit) {
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const key = readVarint(buf, pos);
    pos = readVarint.next;
    const number = Math.floor(key / 8);
    const wire = key & 7;
    if (number === 0) throw new WireError('field number 0');
    let valueStart = pos;
    let valueEnd;
    if (wire === VARINT) {
      readVarint(buf, pos);
      valueEnd = readVarint.next;
    } else if (wire === I64) {
      valueEnd = pos + 8;
    } else if (wire === I32) {
      valueEnd = pos + 4;
    } else if (wire === LEN) {
      const length = readVarint(buf, pos);
      valueStart = readVarint.next;
      valueEnd = valueStart + length;
    } else {
      throw new WireError(`unsupported wire type ${wire}`);
    }
    if (valueEnd > end) throw new WireError(`field ${number} runs past its message`);
    pos = valueEnd;
    visit(number, wire, fieldStart, valueStart, valueEnd);
  }
}

/** Collects byte runs and writes them out as one buffer. */
export class Writer {
  constructor() {
    this.parts = [];
    this.length = 0;
  }

  bytes(b) {
    this.parts.push(b);
    this.length += b.length;
  }

  varint(v) {
    const out = [];
    while (v >= 0x80) {
      out.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    this.bytes(Uint8Array.from(out));
  }

  /** Field `number` as a LEN field holding what `inner` wrote. */
  message(number, inner) {
    this.varint(number * 8 + LEN);
    this.varint(inner.length);
    for (const p of inner.parts) this.bytes(p);
  }

  finish() {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
