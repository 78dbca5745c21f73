import unittest

import logic


class LogicTest(unittest.TestCase):
    def test_passes_batches_on(self):
        self.assertIsNone(logic.configure("{}"))
        self.assertEqual(logic.process("traces", b"\x0a\x00"), [b"\x0a\x00"])

    def test_refuses_a_config_that_is_not_a_map(self):
        self.assertIn("must be a map", logic.configure("[1]"))


if __name__ == "__main__":
    unittest.main()
