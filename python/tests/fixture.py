"""The runs made by make_runs.py (the dvs_py_runs ctest fixture)."""

import json
import os
import unittest


def runs():
    root = os.environ.get("DVS_PY_TEST_RUNS", "")
    p = os.path.join(root, "runs.json")
    if not os.path.exists(p):
        raise unittest.SkipTest("no %s: run the dvs_py_make_runs fixture first (ctest -R dvs_py)" % p)
    with open(p) as f:
        return json.load(f)
