"""Read dvs run directories (docs/RESULTS_SCHEMA.md) into pandas.

    run = load_run("results/runs/20261203-101500-abcdef0123")
    run.meta            # meta.json (dict)
    run.rows            # runs.jsonl, one row per cell x repetition, latency.* flattened
    run.cells           # one row per cell: the median repetition by p50 (what the tables show)
    run.csv             # runs.csv as written (None if absent)
    run.histograms      # histograms.jsonl: cell, rep, bucket_low_ns, bucket_high_ns, value_ns, count
    run.histogram(cell) # merged buckets of a cell (all repetitions), a DataFrame
    run.reproduction    # dvs reproduce m3ipc tables (meta.json "tables"), long format, or None

Works for `dvs run`, `dvs bench`, `dvs rpc` and `dvs reproduce` directories (each writes what it
has: a reproduce directory has no histograms.jsonl). Unknown fields are kept; schema_version
above the one known here only warns (readers must ignore fields they do not know).
"""

import fnmatch
import glob
import json
import os
import warnings

import numpy as np
import pandas as pd

SCHEMA_VERSION = 2
SUB_BITS = 7  # histograms.jsonl sub_bits: 128 sub-buckets per octave


def bucket_width(low, sub_bits=SUB_BITS):
    """Width of the histogram bucket starting at `low` (ns): 1 below 2^sub_bits, else 2^(e - sub_bits)."""
    low = np.asarray(low, dtype=np.float64)
    e = np.floor(np.log2(np.maximum(low, 1)))
    return np.where(low < (1 << sub_bits), 1.0, np.exp2(e - sub_bits))


def _read_jsonl(path):
    rows = []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                # a run killed while writing leaves a partial last line: keep what is whole
                warnings.warn("%s:%d: skipped (%s)" % (path, i, e))
    return rows


# Columns every caller may rely on, even when a row kind lacks them.
_ROW_DEFAULTS = {
    "section": None, "transport": None, "primitive": None, "size_bytes": np.nan, "pairs": np.nan,
    "baseline": None, "ratio_to_baseline": np.nan, "ratio_basis": None, "ratio_note": None, "msgs_per_s": np.nan, "mb_per_s": np.nan, "rep": 1, "repetitions": 1,
    "matrix": None, "scenario": None, "placement": None, "wait": None, "label": None, "mechanism": None,
    "kind": None, "bytes_per_op": np.nan, "status": None, "error": None,
}
_LATENCY_COLS = ["n", "min", "max", "mean", "p50", "p90", "p99", "p99_9", "p99_99", "what", "unit"]


def rows_frame(rows):
    """runs.jsonl rows -> DataFrame: latency.* become latency_* columns (latency_p50, ...)."""
    if not rows:
        df = pd.DataFrame(columns=["cell"] + list(_ROW_DEFAULTS) + ["latency_" + c for c in _LATENCY_COLS])
        return df
    df = pd.json_normalize(rows, sep="_")
    for c, v in _ROW_DEFAULTS.items():
        if c not in df.columns:
            df[c] = v
    for c in _LATENCY_COLS:
        if "latency_" + c not in df.columns:
            df["latency_" + c] = np.nan
    df["rep"] = df["rep"].fillna(1).astype(int)
    # copy rows of `dvs run` carry the block size only as bytes_per_op
    size = df["size_bytes"].astype(float)
    df["size_bytes"] = size.where(size.notna(), np.where(df["kind"] == "copy", df["bytes_per_op"], np.nan))
    return df


def cell_ratio(rows):
    """A cell's ratio to its baseline over repetitions: the median of its rows' ratio_to_baseline
    (harness/results/ratio.hpp: >1 = slower than the baseline), as dvs's tables print it; NaN if
    no row has one."""
    v = pd.to_numeric(rows["ratio_to_baseline"], errors="coerce").dropna() if "ratio_to_baseline" in rows else []
    return float(np.median(v)) if len(v) else np.nan


def _median_rep(df):
    """One row per cell: the repetition whose p50 is the median (lower median), like dvs's tables,
    with the cell's ratio_to_baseline (cell_ratio: the median over its repetitions)."""
    if df.empty:
        return df
    out = []
    for _, g in df.groupby("cell", sort=False):
        ok = g[g["status"] == "ok"]
        if ok.empty:
            out.append(g.iloc[0])
            continue
        ok = ok.sort_values("latency_p50", kind="stable")
        pick = ok.iloc[(len(ok) - 1) // 2].copy()
        pick["reps_ok"] = len(ok)
        pick["ratio_to_baseline"] = cell_ratio(ok)
        out.append(pick)
    res = pd.DataFrame(out).reset_index(drop=True)
    if "reps_ok" not in res.columns:
        res["reps_ok"] = 0
    res["reps_ok"] = res["reps_ok"].fillna(0).astype(int)
    return res


def histograms_frame(lines):
    """histograms.jsonl lines -> long DataFrame: cell, rep, bucket_low_ns, bucket_high_ns, value_ns, count.

    value_ns is the bucket's midpoint (how dvs reports percentiles)."""
    recs = []
    for h in lines:
        sub = int(h.get("sub_bits", SUB_BITS))
        b = h.get("buckets") or []
        if not b:
            continue
        arr = np.asarray(b, dtype=np.float64)
        lows = arr[:, 0]
        width = bucket_width(lows, sub)
        recs.append(pd.DataFrame({
            "run_id": h.get("run_id"), "cell": h.get("cell"), "rep": int(h.get("rep", 1)),
            "bucket_low_ns": lows, "bucket_high_ns": lows + width, "value_ns": lows + (width - 1) / 2.0,
            "count": arr[:, 1].astype(np.int64)}))
    if not recs:
        return pd.DataFrame(columns=["run_id", "cell", "rep", "bucket_low_ns", "bucket_high_ns", "value_ns", "count"])
    return pd.concat(recs, ignore_index=True)


def cdf(hist):
    """Empirical CDF of a histogram frame (columns value_ns/bucket_high_ns, count), merged over
    rows with the same bucket: DataFrame value_ns, upper_ns, count, cum, fraction (P[X <= upper])."""
    if hist is None or len(hist) == 0:
        return pd.DataFrame(columns=["value_ns", "upper_ns", "count", "cum", "fraction"])
    g = (hist.groupby("bucket_low_ns", as_index=False)
         .agg(value_ns=("value_ns", "first"), upper_ns=("bucket_high_ns", "first"), count=("count", "sum"))
         .sort_values("bucket_low_ns"))
    g["cum"] = g["count"].cumsum()
    total = g["count"].sum()
    g["fraction"] = g["cum"] / total if total else np.nan
    return g.reset_index(drop=True)


def percentile(hist, q):
    """Nearest-rank percentile q (0..100) of a histogram frame, as the bucket midpoint (ns)."""
    c = cdf(hist)
    if c.empty:
        return np.nan
    n = c["count"].sum()
    rank = max(1, int(np.ceil(q / 100.0 * n)))
    i = int(np.searchsorted(c["cum"].to_numpy(), rank))
    return float(c["value_ns"].iloc[min(i, len(c) - 1)])


def reproduction_frame(meta):
    """meta.json 'tables' of `dvs reproduce m3ipc` -> long DataFrame (one row per table row)."""
    tables = meta.get("tables") if isinstance(meta, dict) else None
    if not tables:
        return None
    recs = []
    for ti, t in enumerate(tables):
        for ri, r in enumerate(t.get("rows", [])):
            rec = {"table_index": ti, "table": t.get("table", ""), "title": t.get("title", ""),
                   "unit": t.get("unit", ""), "published_column": t.get("published_column", ""),
                   "base": t.get("base", ""), "row_index": ri}
            rec.update({k: v for k, v in r.items()})
            recs.append(rec)
    df = pd.DataFrame(recs)
    for c in ("published", "ours", "published_base", "ours_base", "published_norm", "ours_norm", "ratio"):
        if c not in df.columns:
            df[c] = np.nan
        df[c] = pd.to_numeric(df[c], errors="coerce")
    return df


class Run:
    """One run directory, read lazily."""

    def __init__(self, path):
        path = os.path.abspath(path)
        if not os.path.isdir(path):
            raise FileNotFoundError("no run directory %s" % path)
        if not os.path.exists(os.path.join(path, "meta.json")) and not os.path.exists(os.path.join(path, "runs.jsonl")):
            raise FileNotFoundError("%s has neither meta.json nor runs.jsonl: not a dvs run directory" % path)
        self.path = path
        self._meta = None
        self._rows = None
        self._hist = None
        self._csv = None

    @property
    def meta(self):
        if self._meta is None:
            p = os.path.join(self.path, "meta.json")
            self._meta = {}
            if os.path.exists(p):
                with open(p) as f:
                    self._meta = json.load(f)
            sv = self._meta.get("schema_version", 0)
            if isinstance(sv, int) and sv > SCHEMA_VERSION:
                warnings.warn("%s: schema_version %d is newer than this reader's %d" % (self.path, sv, SCHEMA_VERSION))
        return self._meta

    @property
    def run_id(self):
        return self.meta.get("run_id") or os.path.basename(self.path)

    @property
    def command(self):
        """`dvs run`, `dvs bench`, `dvs rpc`, `dvs reproduce m3ipc`."""
        return self.meta.get("command") or "dvs run"

    @property
    def rows(self):
        if self._rows is None:
            p = os.path.join(self.path, "runs.jsonl")
            self._rows = rows_frame(_read_jsonl(p) if os.path.exists(p) else [])
            if "run_id" not in self._rows.columns or self._rows["run_id"].isna().all():
                self._rows["run_id"] = self.run_id
        return self._rows

    @property
    def ok(self):
        r = self.rows
        return r[r["status"] == "ok"]

    @property
    def cells(self):
        return _median_rep(self.rows)

    @property
    def csv(self):
        if self._csv is None:
            p = os.path.join(self.path, "runs.csv")
            if os.path.exists(p):
                self._csv = pd.read_csv(p)
        return self._csv

    @property
    def histograms(self):
        if self._hist is None:
            p = os.path.join(self.path, "histograms.jsonl")
            self._hist = histograms_frame(_read_jsonl(p) if os.path.exists(p) else [])
        return self._hist

    def histogram(self, cell, rep=None):
        h = self.histograms
        h = h[h["cell"] == cell]
        if rep is not None:
            h = h[h["rep"] == rep]
        return h

    def cdf(self, cell, rep=None):
        return cdf(self.histogram(cell, rep))

    @property
    def reproduction(self):
        return reproduction_frame(self.meta)

    def machine(self):
        """The machine metadata as (field, value) pairs, for tables."""
        m = self.meta
        git = m.get("git") or {}
        build = m.get("build") or {}
        clock = m.get("clock") or {}
        placement = m.get("placement") or {}
        out = [
            ("run id", self.run_id),
            ("command", (m.get("options") or {}).get("argv") or self.command),
            ("date", m.get("date")),
            ("git", "%s%s" % ((git.get("sha") or "?")[:10], " (dirty)" if git.get("dirty") else "")),
            ("host", m.get("hostname")),
            ("kernel", m.get("kernel")),
            ("cpu", m.get("cpu_model")),
            ("online CPUs", m.get("nproc_online")),
            ("CPUs allowed", ",".join(str(c.get("cpu")) for c in m.get("cpus_allowed", []) if isinstance(c, dict))),
            ("hypervisor", m.get("hypervisor")),
            ("cpufreq governor", m.get("cpufreq_governor") or "(none)"),
            ("build", " ".join(str(x) for x in (build.get("type"), build.get("compiler")) if x)),
            ("clocksource", "%s, %s ns per read" % (clock.get("clocksource"), clock.get("overhead_ns_median"))
             if clock else None),
            ("placement", placement.get("kind") if isinstance(placement, dict) else placement),
            ("load average (start / end)", "%s / %s" % (_first(m.get("loadavg_start")), _first(m.get("loadavg_end")))
             if m.get("loadavg_start") else None),
            ("busy / steal %", "%.1f / %.1f" % (m["busy_pct"], m.get("steal_pct", 0.0))
             if isinstance(m.get("busy_pct"), (int, float)) else None),
            ("repetitions", m.get("repetitions")),
            ("finished", m.get("finished")),
            ("interrupted", m.get("interrupted")),
        ]
        return [(k, v) for k, v in out if v not in (None, "", [])]

    def __repr__(self):
        return "Run(%r)" % self.path


def _first(s):
    return str(s).split()[0] if s else s


def load_run(path):
    """A Run for one run directory (or a runs.jsonl / meta.json inside one)."""
    if os.path.isfile(path):
        path = os.path.dirname(path)
    return Run(path)


def load_runs(paths):
    """Several runs: (list of Run, rows of all concatenated with run_id)."""
    runs = [load_run(p) for p in paths]
    rows = pd.concat([r.rows for r in runs], ignore_index=True) if runs else rows_frame([])
    return runs, rows


def find_runs(root=None, pattern="*"):
    """Run directories under root (default <source>/results: runs/, reproduce/, ...), oldest first
    by name (run ids start with the UTC time)."""
    from . import paths

    root = root or paths.results_dir()
    found = set()
    for meta in glob.glob(os.path.join(root, "**", "meta.json"), recursive=True):
        d = os.path.dirname(meta)
        if fnmatch.fnmatch(os.path.basename(d), pattern):
            found.add(d)
    if os.path.exists(os.path.join(root, "meta.json")):
        found.add(root)
    return sorted(found, key=lambda d: (os.path.basename(d), d))


def latest_run(root=None, pattern="*"):
    runs = find_runs(root, pattern)
    return runs[-1] if runs else None
