"""A small OTLP protobuf wire-format walker: read fields, write fields.

The plugin edits a few string fields of an ExportLogsServiceRequest and copies
every other byte through untouched, so it needs no generated message classes
(see README.md for why not the `protobuf` package).
"""

VARINT, I64, LEN, I32 = 0, 1, 2, 5


class WireError(ValueError):
    """The bytes are not a valid protobuf message."""


def read_varint(buf, pos):
    """Returns (value, next position)."""
    if pos < len(buf) and buf[pos] < 0x80:  # most keys and short lengths
        return buf[pos], pos + 1
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes")


def fields(buf, start=0, end=None):
    """Yields (number, wire type, field start, value start, value end) for
    each field of the message in buf[start:end]. For LEN fields the value
    is buf[value start:value end] without its length prefix."""
    pos = start
    end = len(buf) if end is None else end
    while pos < end:
        field_start = pos
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == VARINT:
            _, value_end = read_varint(buf, pos)
            value_start = pos
        elif wire == I64:
            value_start, value_end = pos, pos + 8
        elif wire == I32:
            value_start, value_end = pos, pos + 4
        elif wire == LEN:
            length, value_start = read_varint(buf, pos)
            value_end = value_start + length
        else:
            raise WireError(f"unsupported wire type {wire}")
        if value_end > end:
            raise WireError(f"field {number} runs past its message")
        pos = value_end
        yield number, wire, field_start, value_start, value_end


def write_varint(out, value):
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def write_len(out, number, payload):
    """Appends field `number` as a length-delimited field holding payload."""
    write_varint(out, (number << 3) | LEN)
    write_varint(out, len(payload))
    out += payload
