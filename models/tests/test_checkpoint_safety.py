"""A checkpoint that would run code is refused before anything unpickles it (standard library only:
runs in CI without torch).   python3 -m pytest models/tests/test_checkpoint_safety.py"""
import io
import os
import pickle
import sys
import tempfile
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import checkpoint_safety as cs  # noqa: E402


class _Payload:
    """Unpickling this runs a shell command that creates a file."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return os.system, (f"touch {self.target}",)


def _ckpt_zip(path, pkl_bytes):
    """The layout torch.save writes: a zip whose NAME/data.pkl holds the object."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pkl_bytes)
        z.writestr("archive/version", "3\n")


# A tensor's pickle as torch writes it (protocol 2): the names it imports, with no torch needed here.
TENSOR_PICKLE = (b"\x80\x02ccollections\nOrderedDict\n)R"
                 b"X\x06\x00\x00\x00weightctorch._utils\n_rebuild_tensor_v2\n(ctorch\nFloatStorage\nK\x00tRs"
                 b"X\x07\x00\x00\x00hparamscargparse\nNamespace\n)Rs.")


class CheckpointSafety(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.victim = os.path.join(self.dir, "pwned")

    def assert_refused(self, path, words):
        with self.assertRaises(cs.UnsafeCheckpoint) as e:
            cs.check(path)
        for w in words:
            self.assertIn(w, str(e.exception))
        self.assertFalse(os.path.exists(self.victim), "the payload ran")

    def test_a_pickle_that_would_create_a_file_is_refused_and_the_file_never_appears(self):
        for proto in (2, 4, 5):  # GLOBAL, and STACK_GLOBAL with memoised names
            path = os.path.join(self.dir, f"evil{proto}.ckpt")
            _ckpt_zip(path, pickle.dumps({"state_dict": {}, "x": _Payload(self.victim)}, protocol=proto))
            self.assert_refused(path, ["refused", "system"])

    def test_the_legacy_stream_format_is_scanned_too(self):
        path = os.path.join(self.dir, "legacy.ckpt")
        with open(path, "wb") as f:
            f.write(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2))  # torch's legacy magic number
            f.write(pickle.dumps({"state_dict": _Payload(self.victim)}, protocol=2))
        self.assert_refused(path, ["system"])

    def test_tensors_and_plain_data_pass(self):
        path = os.path.join(self.dir, "good.ckpt")
        _ckpt_zip(path, TENSOR_PICKLE)
        cs.check(path)
        names = cs.scan(path)
        self.assertIn(("torch._utils", "_rebuild_tensor_v2"), names)
        self.assertIn(("argparse", "Namespace"), names)

    def test_a_file_that_is_not_a_checkpoint_is_refused_in_plain_words(self):
        path = os.path.join(self.dir, "notes.ckpt")
        with open(path, "w") as f:
            f.write("these are not the weights you are looking for\n")
        with self.assertRaises(cs.UnsafeCheckpoint) as e:
            cs.check(path)
        self.assertIn("not a PyTorch checkpoint", str(e.exception))

    def test_the_command_line_says_why_and_exits_2(self):
        path = os.path.join(self.dir, "evil.ckpt")
        _ckpt_zip(path, pickle.dumps(_Payload(self.victim), protocol=4))
        err = io.StringIO()
        old, sys.stderr = sys.stderr, err
        try:
            self.assertEqual(cs.main([path]), 2)
        finally:
            sys.stderr = old
        self.assertIn("refused", err.getvalue())
        self.assertFalse(os.path.exists(self.victim))


if __name__ == "__main__":
    unittest.main()
