"""`dvs report` end to end on the fixture runs (ctest: dvs_py_report_test): the HTML's embedded
figures exist and are non-empty PNGs, the PNG/SVG files beside it too, the Markdown points at
files that exist, the tables are there; --latest; and the package found from an installed tree."""

import base64
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import helpers
import fixture

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def dvs(*args, env=None, dvs_bin=None):
    return subprocess.run([dvs_bin or helpers.env_path("DVS_BIN"), "report"] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=300, env=env)


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.paths = fixture.runs()
        cls.tmp = tempfile.mkdtemp(prefix="dvs-report-test-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check_report(self, out, min_figures):
        html_path = os.path.join(out, "report.html")
        md_path = os.path.join(out, "report.md")
        self.assertTrue(os.path.getsize(html_path) > 0)
        self.assertTrue(os.path.getsize(md_path) > 0)
        html = open(html_path).read()
        imgs = re.findall(r"<img alt='([^']+)' src='data:image/png;base64,([^']+)'", html)
        self.assertGreaterEqual(len(imgs), min_figures)
        for name, b64 in imgs:
            data = base64.b64decode(b64)
            self.assertTrue(data.startswith(PNG_MAGIC), name)
            self.assertGreater(len(data), 10000, name)
            for ext in ("png", "svg"):
                f = os.path.join(out, "figures", "%s.%s" % (name, ext))
                self.assertGreater(os.path.getsize(f), 5000, f)
            self.assertIn("<svg", open(os.path.join(out, "figures", name + ".svg")).read(2000))
        md = open(md_path).read()
        for rel in re.findall(r"\]\((figures/[^)]+)\)", md):
            self.assertTrue(os.path.exists(os.path.join(out, rel)), rel)
        return html, md, [n for n, _ in imgs]

    def test_report_bench(self):
        out = os.path.join(self.tmp, "bench")
        p = dvs(self.paths["bench"], "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("report.html", p.stdout)
        html, md, names = self.check_report(out, 4)
        for n in ("latency_cdf", "latency_tail", "percentile_vs_size", "transport_comparison"):
            self.assertIn(n, names)
        self.assertIn("dvs against the raw baselines", html)
        self.assertIn("Runs and machines", md)
        self.assertIn(os.path.basename(self.paths["bench"]), md)
        self.assertIn("| kernel |", md)

    def test_ratios_match_the_terminal(self):
        """The report's ratio of every dvs cell is the number the terminal printed (one function,
        harness/results/ratio.hpp, through runs.jsonl), for the bench run (2 repetitions: the
        median of per-repetition ratios) and the remote run (8 pairs vs 1 pair: < 1 = faster)."""
        from dvs.results import load_run
        from dvs_analysis import tables
        checked = 0
        for kind in ("bench", "remote"):
            run = load_run(self.paths[kind])
            terminal = open(os.path.join(os.path.dirname(self.paths[kind]), "stdout.txt")).read()
            t = tables.baseline_ratios(run)
            self.assertFalse(t.empty, kind)
            for _, r in t.iterrows():
                if r["ratio"] != r["ratio"]:
                    continue
                text = tables.ratio_text(r["ratio"], r["ratio_basis"])
                number, unit = text.split(" ", 1)
                if kind == "bench":
                    line = [l for l in terminal.splitlines() if l.startswith(r["cell"] + " ")]
                else:
                    line = [l for l in terminal.splitlines() if l.startswith("dvs " + r["label"] + " ")]
                self.assertEqual(len(line), 1, (r["cell"], terminal))
                self.assertRegex(line[0], r"\s%s \S+ %s\b" % (re.escape(number), re.escape(unit)), r["cell"])
                checked += 1
        self.assertGreater(checked, 4)
        # and the report shows that number
        out = os.path.join(self.tmp, "ratios")
        p = dvs(self.paths["bench"], "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        md = open(os.path.join(out, "report.md")).read()
        t = tables.baseline_ratios(load_run(self.paths["bench"]))
        for v, b in zip(t["ratio"], t["ratio_basis"]):
            if v == v:
                self.assertIn(tables.ratio_text(v, b), md)
        # a remote shm cell of the bench run has no ratio and says why
        shm = t[t["cell"].str.startswith("shm/")]
        self.assertFalse(shm.empty)
        self.assertTrue(shm["ratio"].isna().all(), shm)
        self.assertTrue((shm["ratio_note"] != "").all(), shm)

    def test_report_ab_and_pairs(self):
        out = os.path.join(self.tmp, "ab")
        p = dvs(self.paths["run_a"], self.paths["run_b"], self.paths["remote"], "--out", out, "--title", "A/B test")
        self.assertEqual(p.returncode, 0, p.stderr)
        html, md, names = self.check_report(out, 3)
        self.assertIn("ab_p50_ratio", names)
        self.assertTrue(any(n.startswith("throughput_vs_pairs") for n in names), names)
        self.assertIn("A/B: ", md)
        self.assertIn("verdict", md)  # dvs compare --json ran
        self.assertIn("<title>A/B test</title>", html)

    def test_default_out_and_latest(self):
        run = self.paths["run_a"]
        root = os.path.dirname(run)
        p = dvs("--latest", "--results", root)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.check_report(os.path.join(run, "report"), 2)

    def test_bad_input(self):
        p = dvs(os.path.join(self.tmp, "no-such-run"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("no run directory", p.stderr)
        p = dvs()
        self.assertEqual(p.returncode, 2)
        p = dvs("--latest", "--results", self.tmp + "/empty")
        self.assertEqual(p.returncode, 2)

    def test_installed_tree(self):
        build = os.path.dirname(os.path.dirname(helpers.env_path("DVS_BIN")))
        prefix = os.path.join(self.tmp, "prefix")
        p = subprocess.run(["cmake", "--install", build, "--prefix", prefix], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout)
        pydir = os.path.join(prefix, "share", "dvs", "python")
        self.assertTrue(os.path.exists(os.path.join(pydir, "dvs_analysis", "report.py")))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DVS_PYTHON_DIR")}
        installed = os.path.join(prefix, "bin", "dvs")
        p = subprocess.run([installed, "report", "--print-python-dir"], stdout=subprocess.PIPE, text=True, env=env)
        self.assertEqual(p.stdout.strip(), os.path.realpath(pydir))
        out = os.path.join(self.tmp, "installed")
        p = dvs(self.paths["run_a"], "--out", out, env=env, dvs_bin=installed)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.check_report(out, 2)
        # the compiled module is installed beside the packages
        code = "import dvs; print(dvs.HAVE_IPC, dvs.__file__)"
        p = subprocess.run([os.environ.get("DVS_PYTHON3", "/usr/bin/python3"), "-c", code], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=dict(env, PYTHONPATH=pydir))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("True " + pydir), p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
