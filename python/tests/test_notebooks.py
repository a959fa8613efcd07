"""The notebooks (python/notebooks/*.ipynb) executed headless with nbconvert on the fixture runs
(ctest: dvs_py_notebooks_test): each must run without error and save its figures (non-empty PNG
and SVG); the executed copies go to build/python/notebooks-out/."""

import glob
import json
import os
import shutil
import subprocess
import sys
import unittest

import helpers
import fixture

NOTEBOOKS = os.path.join(os.path.dirname(helpers.HERE), "notebooks")
SOURCE = os.environ.get("DVS_SOURCE_DIR") or os.path.abspath(os.path.join(helpers.HERE, "..", ".."))


class NotebooksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.paths = fixture.runs()
        cls.out = os.path.join(os.path.dirname(os.environ["DVS_PY_TEST_RUNS"]), "notebooks-out")
        shutil.rmtree(cls.out, ignore_errors=True)
        os.makedirs(cls.out)

    def execute(self, name, env_extra):
        figs = os.path.join(self.out, name + "-figures")
        env = dict(os.environ, DVS_FIGURES_DIR=figs, **env_extra)
        p = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
                            "--ExecutePreprocessor.timeout=300", "--ExecutePreprocessor.kernel_name=python3",
                            "--output-dir", self.out, os.path.join(NOTEBOOKS, name + ".ipynb")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=600)
        self.assertEqual(p.returncode, 0, "nbconvert failed on %s:\n%s" % (name, p.stderr[-5000:]))
        executed = os.path.join(self.out, name + ".ipynb")
        with open(executed) as f:
            nb = json.load(f)
        for cell in nb["cells"]:
            for o in cell.get("outputs", []):
                self.assertNotEqual(o.get("output_type"), "error", "%s: %s" % (name, o))
        made = sorted(glob.glob(os.path.join(figs, "*")))
        for f in made:
            self.assertGreater(os.path.getsize(f), 5000, f)
        images = sum(1 for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
        return made, images

    def test_latency(self):
        made, images = self.execute("latency", {"DVS_RUN": self.paths["bench"]})
        names = {os.path.basename(f) for f in made}
        self.assertTrue({"latency_cdf.png", "latency_cdf.svg", "latency_tail.png", "latency_tail.svg"} <= names, names)
        self.assertGreaterEqual(images, 2)

    def test_sizes_pairs_transports(self):
        # A = run_a, B = run_b (the A/B figure); bench has the sizes, remote the pairs
        runs = os.pathsep.join([self.paths["run_a"], self.paths["run_b"], self.paths["bench"], self.paths["remote"]])
        made, images = self.execute("sizes_pairs_transports", {"DVS_RUN": runs})
        names = {os.path.basename(f) for f in made}
        for stem in ("percentile_vs_size-3", "throughput_vs_pairs-4", "transport_comparison-3", "ab_p50_ratio"):
            self.assertIn(stem + ".png", names)
            self.assertIn(stem + ".svg", names)
        self.assertGreaterEqual(images, 4)

    def test_reproduction(self):
        committed = sorted(glob.glob(os.path.join(SOURCE, "results", "reproduce", "*")))
        if not committed:
            self.skipTest("no committed results/reproduce run")
        made, images = self.execute("reproduction", {"DVS_REPRODUCE_RUN": committed[-1]})
        self.assertGreaterEqual(len(made), 10)
        self.assertGreaterEqual(images, 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
