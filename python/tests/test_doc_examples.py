"""Every ```python block of docs/PYTHON.md runs as written (ctest: dvs_py_doc_examples_test).

Each block runs in its own /usr/bin/python3, as a reader would paste it into a file at the top of
the tree after `make run`: the working directory is a scratch tree holding `harness/` (the
source's) and `results/runs/` (a `dvs run` of the dvs_py_runs fixture), with the environment ctest
sets (PYTHONPATH, DVSD_BIN, DVS_BIN). A block that fails prints its code and output.
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

import helpers

BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)
MIN_BLOCKS = 4  # the IPC, vcopy, clusters and results examples (guards against a silently empty list)
TIMEOUT_S = 120


def source_dir():
    return os.environ.get("DVS_SOURCE_DIR") or os.path.abspath(os.path.join(helpers.HERE, "..", ".."))


def doc_blocks():
    """(line number, code) of every ```python block of docs/PYTHON.md."""
    with open(os.path.join(source_dir(), "docs", "PYTHON.md")) as f:
        text = f.read()
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in BLOCK.finditer(text)]


class DocExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.TemporaryDirectory(prefix="dvs-doc-examples-")
        root = cls.scratch.name
        os.symlink(os.path.join(source_dir(), "harness"), os.path.join(root, "harness"))
        os.makedirs(os.path.join(root, "results"))
        runs = os.path.join(os.environ["DVS_PY_TEST_RUNS"], "run_a")
        if not os.path.isdir(runs):
            raise RuntimeError("%s missing: the dvs_py_make_runs fixture makes it" % runs)
        os.symlink(runs, os.path.join(root, "results", "runs"))

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def test_blocks_found(self):
        self.assertGreaterEqual(len(doc_blocks()), MIN_BLOCKS)

    def test_every_block_runs(self):
        python = os.environ.get("DVS_PYTHON3", sys.executable)
        for line, code in doc_blocks():
            with self.subTest(line=line):
                p = subprocess.run([python, "-c", code], cwd=self.scratch.name, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT_S)
                self.assertEqual(p.returncode, 0, "docs/PYTHON.md line %d:\n%s\n--- output:\n%s" % (line, code, p.stdout))


if __name__ == "__main__":
    unittest.main(verbosity=2)
