"""dvs.results and dvs_analysis on real runs (the dvs_py_runs fixture) and on the committed
`dvs reproduce m3ipc` run (ctest: dvs_py_results_test)."""

import glob
import io
import os
import unittest

import helpers  # noqa: F401  (sets sys.path)
import fixture

import numpy as np

from dvs import results
from dvs_analysis import figures, tables

SOURCE = os.environ.get("DVS_SOURCE_DIR") or os.path.abspath(os.path.join(helpers.HERE, "..", ".."))


def png_bytes(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


class ResultsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.paths = fixture.runs()
        cls.bench = results.load_run(cls.paths["bench"])
        cls.run_a = results.load_run(cls.paths["run_a"])
        cls.remote = results.load_run(cls.paths["remote"])

    def test_load_bench(self):
        r = self.bench
        self.assertEqual(r.meta["command"], "dvs bench")
        self.assertEqual(r.meta["schema_version"], 2)
        self.assertFalse(r.rows.empty)
        for col in ("cell", "rep", "latency_p50", "latency_p99", "msgs_per_s", "mb_per_s", "size_bytes", "transport"):
            self.assertIn(col, r.rows.columns)
        self.assertTrue((r.rows["rep"] >= 1).all())
        self.assertEqual(len(r.csv), len(r.rows))  # runs.csv: one line per runs.jsonl row
        ok = r.ok
        self.assertTrue((ok["latency_n"] > 0).all())
        # one row per cell in .cells, each the median repetition
        self.assertEqual(len(r.cells), r.rows["cell"].nunique())
        self.assertTrue(set(ok["transport"].dropna()) >= {"local", "tcp", "shm"})

    def test_histograms_match_rows(self):
        r = self.bench
        h = r.histograms
        self.assertFalse(h.empty)
        checked = 0
        for _, row in r.ok.iterrows():
            hist = r.histogram(row["cell"], row["rep"])
            if hist.empty:
                continue
            self.assertEqual(int(hist["count"].sum()), int(row["latency_n"]), row["cell"])
            c = results.cdf(hist)
            self.assertTrue(np.all(np.diff(c["fraction"]) >= 0))
            self.assertAlmostEqual(float(c["fraction"].iloc[-1]), 1.0)
            p50 = results.percentile(hist, 50)
            # dvs reports the bucket midpoint clamped to [min, max]: within 0.39 % (+1 ns rounding)
            expect = min(max(p50, row["latency_min"]), row["latency_max"])
            self.assertLessEqual(abs(expect - row["latency_p50"]), 0.0040 * row["latency_p50"] + 1, row["cell"])
            checked += 1
        self.assertGreater(checked, 10)

    def test_bucket_width(self):
        self.assertEqual(results.bucket_width(5), 1)
        self.assertEqual(results.bucket_width(127), 1)
        self.assertEqual(results.bucket_width(128), 1)
        self.assertEqual(results.bucket_width(256), 2)
        self.assertEqual(results.bucket_width(32768), 256)

    def test_tables(self):
        br = tables.baseline_ratios(self.bench)
        self.assertFalse(br.empty)
        self.assertTrue((br["ratio"].dropna() > 0).all())
        self.assertFalse(br["ratio"].dropna().empty)
        self.assertFalse(tables.summary(self.bench).empty)
        md = tables.to_markdown(tables.baseline_ratios_formatted(self.bench))
        self.assertIn("| dvs cell |", md)
        ab = tables.ab([self.run_a, results.load_run(self.paths["run_b"])])
        self.assertEqual(len(ab), 1)
        title, note, t = ab[0]
        self.assertFalse(t.empty)
        self.assertIn("verdict", t.columns)  # from `dvs compare --json`

    def test_peer_rows(self):
        """The remote section's NNG and ZeroMQ rows are labelled peers and set beside remote dvs sendrec
        (its endpoints block in this run); they are never taken for a dvs row's raw baseline."""
        t = tables.peer_ratios(self.remote)
        self.assertEqual(sorted(t["cell"]), ["remote/peer/nng_tcp", "remote/peer/zmq_tcp"])
        self.assertTrue((t["dvs_cell"] == "remote/dvs/sendrec_reply/block").all())
        self.assertTrue((t["ratio"] > 0).all())
        self.assertIn("| peer cell |", tables.to_markdown(tables.peer_ratios_formatted(self.remote)))
        self.assertFalse(tables.baseline_ratios(self.remote)["baseline"].str.contains("peer").any())

    def test_figures_bench(self):
        for fn in (figures.latency_cdf, figures.latency_tail, figures.percentile_vs_size,
                   figures.transport_comparison):
            fig = fn(self.bench)
            self.assertIsNotNone(fig, fn.__name__)
            self.assertGreater(len(png_bytes(fig)), 20000, fn.__name__)
            for ax in fig.axes:
                if ax.get_visible() and ax.has_data():
                    self.assertTrue(ax.get_xlabel() and ax.get_ylabel(), fn.__name__)

    def test_figures_run(self):
        self.assertIsNotNone(figures.latency_cdf(self.run_a))
        pairs = figures.throughput_vs_pairs(self.remote)
        self.assertIsNotNone(pairs)
        self.assertGreater(len(png_bytes(pairs)), 20000)
        ab = figures.ab_comparison([self.run_a, results.load_run(self.paths["run_b"])])
        self.assertIsNotNone(ab)
        names = figures.standard_figures([self.run_a, results.load_run(self.paths["run_b"])])
        self.assertIn("ab_p50_ratio", names)

    def test_reproduction_committed(self):
        dirs = sorted(glob.glob(os.path.join(SOURCE, "results", "reproduce", "*")))
        if not dirs:
            self.skipTest("no committed results/reproduce run")
        r = results.load_run(dirs[-1])
        df = r.reproduction
        self.assertIsNotNone(df)
        self.assertGreaterEqual(df["table"].nunique(), 5)
        t = tables.reproduction_tables(r)
        self.assertEqual(len(t), df["table"].nunique())
        figs = figures.reproduction(r)
        self.assertEqual(len(figs), len(t))
        self.assertTrue(r.histograms.empty)  # reproduce keeps no histograms: the CDFs are skipped
        self.assertIsNone(figures.latency_cdf(r))

    def test_find_runs(self):
        root = os.environ["DVS_PY_TEST_RUNS"]
        found = results.find_runs(root)
        self.assertEqual(len(found), 4)
        self.assertIn(results.latest_run(os.path.join(root, "bench")), found)

    def test_partial_last_line(self):
        import shutil
        import tempfile
        import warnings

        d = tempfile.mkdtemp()
        try:
            for f in ("meta.json", "runs.jsonl"):
                shutil.copy(os.path.join(self.run_a.path, f), d)
            with open(os.path.join(d, "runs.jsonl"), "a") as f:
                f.write('{"cell": "half a li')
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                r = results.load_run(d)
                self.assertEqual(len(r.rows), len(self.run_a.rows))
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    unittest.main(verbosity=2)
