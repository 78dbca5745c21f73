"""Unit tests of redact.py under CPython: `python3 -m unittest` here."""

import unittest

import otlp_wire as wire
from redact import configure, redact_request, settings


def msg(*fields):
    """A message from (number, bytes) LEN fields."""
    out = bytearray()
    for number, payload in fields:
        wire.write_len(out, number, payload)
    return bytes(out)


def string_value(s):
    return msg((1, s.encode()))


def log(body, attrs=()):
    fields = [(3, b"INFO"), (5, string_value(body))]
    fields += [(6, msg((1, k.encode()), (2, string_value(v)))) for k, v in attrs]
    return msg(*fields)


def request(*logs):
    return msg((1, msg((2, msg(*[(2, l) for l in logs])))))


class RedactTest(unittest.TestCase):
    def test_bodies_and_attributes(self):
        src = request(log("hi a.b@example.com and c@d.org", [("user", "x+y@mail.net"), ("n", "k")]), log("no address"))
        out, n = redact_request(src)
        self.assertEqual(n, 3)
        self.assertEqual(out, request(log("hi [redacted] and [redacted]", [("user", "[redacted]"), ("n", "k")]), log("no address")))

    def test_unchanged_is_none(self):
        self.assertEqual(redact_request(request(log("user@ but no domain"))), (None, 0))

    def test_attributes_off(self):
        src = request(log("a@b.io", [("user", "x@y.io")]))
        out, _ = redact_request(src, "<e>", attributes=False)
        self.assertEqual(out, request(log("<e>", [("user", "x@y.io")])))

    def test_bad_input(self):
        src = request(log("a@b.io"))
        with self.assertRaises(wire.WireError):
            redact_request(src[:-3])

    def test_config(self):
        self.assertIsNone(configure('{"replacement": "*"}'))
        self.assertEqual(settings["replacement"], "*")
        self.assertIn("unknown key `replace`", configure('{"replace": "*"}'))
        self.assertIn("`attributes` must be", configure('{"attributes": "yes"}'))
        configure("{}")


if __name__ == "__main__":
    unittest.main()
