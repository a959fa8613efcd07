"""The standard tables of a dvs run, as pandas DataFrames (numbers) and as formatted frames
(strings with units) for reports.

  summary(run)              every cell: n, p50, p99, p99.9, rate, status (median repetition)
  baseline_ratios(run)      every dvs cell beside its raw baseline: p50s / rates and the ratio
  peer_ratios(run)          every peer library row (NNG, ZeroMQ) beside the dvs row it names
  reproduction_tables(run)  `dvs reproduce m3ipc` tables: published vs ours, normalised
  ab(runs, dvs_bin=None)    A/B between runs: `dvs compare A B --json` when the dvs binary is
                            found (medians, Mann-Whitney U, verdict), else p50 ratios only
  to_markdown(df)           GitHub-flavoured Markdown table (no tabulate dependency)
"""

import json
import subprocess

import numpy as np
import pandas as pd

from dvs import paths

from . import style
from .figures import baseline_of


def _ok(run):
    c = run.cells
    return c[c["status"] == "ok"]


def summary(run):
    c = run.cells
    if c.empty:
        return pd.DataFrame()
    out = pd.DataFrame({
        "cell": c["cell"],
        "kind": c["kind"],
        "wait": c["wait"],
        "placement": c["placement"],
        "status": c["status"],
        "reps_ok": c.get("reps_ok", 0),
        "n": c["latency_n"],
        "p50_ns": c["latency_p50"],
        "p99_ns": c["latency_p99"],
        "p99_9_ns": c["latency_p99_9"],
        "msgs_per_s": c["msgs_per_s"],
        "mb_per_s": c["mb_per_s"],
    })
    return out.reset_index(drop=True)


def summary_formatted(run):
    s = summary(run)
    if s.empty:
        return s
    f = pd.DataFrame({
        "cell": s["cell"],
        "wait": s["wait"].fillna(""),
        "status": s["status"],
        "n": s["n"].map(lambda v: "" if v != v else "%d" % v),
        "p50": s["p50_ns"].map(style.fmt_ns),
        "p99": s["p99_ns"].map(style.fmt_ns),
        "p99.9": s["p99_9_ns"].map(style.fmt_ns),
        "rate": [("%s msgs/s" % style.fmt_rate(m)) if m == m else ("%s MB/s" % style.fmt_rate(b)) if b == b else "–"
                 for m, b in zip(s["msgs_per_s"], s["mb_per_s"])],
    })
    return f


def baseline_ratios(run):
    """One row per dvs cell with a ratio to its baseline, or a named baseline present in the run.
    The ratio is the run's (runs.jsonl ratio_to_baseline, median over repetitions; >1 = slower than
    the baseline: harness/results/ratio.hpp), never recomputed here; a cell without one shows its
    ratio_note."""
    ok = _ok(run)
    if ok.empty:
        return pd.DataFrame()
    by_cell = {r["cell"]: r for _, r in ok.iterrows()}
    recs = []
    for _, r in ok[ok["mechanism"] == "dvs"].iterrows():
        b = baseline_of(r, ok, by_cell)
        ratio = r.get("ratio_to_baseline")
        note = r.get("ratio_note")
        if b is None and not isinstance(note, str):
            continue
        copy = r.get("kind") == "copy"
        rec = {"cell": r["cell"], "label": r.get("label"), "wait": r.get("wait"), "kind": r.get("kind"),
               "baseline": b["cell"] if b is not None else None,
               "baseline_label": b.get("label") if b is not None else None,
               "p50_ns": r["latency_p50"], "baseline_p50_ns": b["latency_p50"] if b is not None else np.nan,
               "p99_ns": r["latency_p99"], "baseline_p99_ns": b["latency_p99"] if b is not None else np.nan,
               "rate": r["mb_per_s"] if copy else r["msgs_per_s"],
               "baseline_rate": (b["mb_per_s"] if copy else b["msgs_per_s"]) if b is not None else np.nan,
               "rate_unit": "MB/s" if copy else "msgs/s",
               "ratio": ratio if ratio == ratio else np.nan,
               "ratio_basis": r.get("ratio_basis"),
               "ratio_note": note if isinstance(note, str) else ""}
        recs.append(rec)
    return pd.DataFrame(recs)


_BASIS_TEXT = {"p50": "p50", "msgs_per_s": "msgs/s", "mb_per_s": "MB/s"}


def ratio_text(ratio, basis, note=""):
    """The ratio as the terminal tables print it ("1.73x p50"), or "— <why not>"."""
    if ratio == ratio and ratio is not None:
        return "%.2fx %s" % (ratio, _BASIS_TEXT.get(basis, basis or ""))
    return "— " + note if note else "—"


def baseline_ratios_formatted(run):
    t = baseline_ratios(run)
    if t.empty:
        return t
    return pd.DataFrame({
        "dvs cell": t["cell"],
        "baseline": t["baseline"].fillna("—"),
        "p50 dvs": t["p50_ns"].map(style.fmt_ns),
        "p50 baseline": t["baseline_p50_ns"].map(style.fmt_ns),
        "p99 dvs": t["p99_ns"].map(style.fmt_ns),
        "p99 baseline": t["baseline_p99_ns"].map(style.fmt_ns),
        "rate dvs": ["%s %s" % (style.fmt_rate(v), u) for v, u in zip(t["rate"], t["rate_unit"])],
        "rate baseline": ["%s %s" % (style.fmt_rate(v), u) for v, u in zip(t["baseline_rate"], t["rate_unit"])],
        "ratio (>1 slower)": [ratio_text(v, b, n) for v, b, n in zip(t["ratio"], t["ratio_basis"], t["ratio_note"])],
    })


def peer_ratios(run):
    """One row per peer IPC library cell (mechanism "peer": NNG, ZeroMQ) that ran, beside the dvs
    row it names (dvs sendrec with blocking endpoints; none when the dvs endpoints poll)."""
    ok = _ok(run)
    if ok.empty or "mechanism" not in ok:
        return pd.DataFrame()
    by_cell = {r["cell"]: r for _, r in ok.iterrows()}
    recs = []
    for _, r in ok[ok["mechanism"] == "peer"].iterrows():
        b = r.get("baseline")
        d = by_cell.get(b) if isinstance(b, str) and b else None
        recs.append({"cell": r["cell"], "label": r.get("label"), "wait": r.get("wait"),
                     "p50_ns": r["latency_p50"], "p99_ns": r["latency_p99"], "rate": r["msgs_per_s"],
                     "dvs_cell": d["cell"] if d is not None else None,
                     "dvs_p50_ns": d["latency_p50"] if d is not None else np.nan,
                     # the ratio the run wrote (harness/results/ratio.hpp), never recomputed here
                     "ratio": r["ratio_to_baseline"] if "ratio_to_baseline" in r and r["ratio_to_baseline"] == r["ratio_to_baseline"] else np.nan})
    return pd.DataFrame(recs)


def peer_ratios_formatted(run):
    t = peer_ratios(run)
    if t.empty:
        return t
    return pd.DataFrame({
        "peer cell": t["cell"],
        "label": t["label"],
        "p50 peer": t["p50_ns"].map(style.fmt_ns),
        "p99 peer": t["p99_ns"].map(style.fmt_ns),
        "rate peer": ["%s msgs/s" % style.fmt_rate(v) for v in t["rate"]],
        "dvs cell": t["dvs_cell"].map(lambda c: c if isinstance(c, str) else "–"),
        "p50 dvs": t["dvs_p50_ns"].map(style.fmt_ns),
        "peer / dvs": t["ratio"].map(lambda v: "%.2f (p50, above 1: slower than dvs)" % v if v == v else "–"),
    })


def reproduction_tables(run):
    """[(title, note, DataFrame)] of a `dvs reproduce m3ipc` run (empty list otherwise)."""
    df = run.reproduction
    if df is None or df.empty:
        return []
    out = []
    for (_, table), g in df.groupby(["table_index", "table"], sort=True):
        first = g.iloc[0]
        unit = first.get("unit") or ""

        def num(v):
            return style.fmt_rate(v) if v == v else "–"

        def ratio(v):
            return "%.2f" % v if v == v else "–"

        t = pd.DataFrame({
            "row": g["row"],
            "published %s" % unit: g["published"].map(num),
            "ours %s" % unit: g["ours"].map(num),
            "published / base": g["published_norm"].map(ratio),
            "ours / base": g["ours_norm"].map(ratio),
            "ours-norm / published-norm": g["ratio"].map(ratio),
        })
        note = "Normalised to: %s." % first.get("base", "")
        out.append((str(first.get("title") or table), note, t.reset_index(drop=True)))
    return out


def _compare_json(dvs_bin, a, b):
    try:
        # --fail-on never: the report shows the verdicts; a regression is not a failure to compare
        p = subprocess.run([dvs_bin, "compare", a, b, "--json", "--fail-on", "never"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE,
                           text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if p.returncode != 0:
        return None, (p.stderr or p.stdout).strip()
    try:
        return json.loads(p.stdout), ""
    except json.JSONDecodeError as e:
        return None, "dvs compare --json: %s" % e


def ab(runs, dvs_bin=None):
    """[(title, note, DataFrame)]: run 1 (A) against each later run (B).

    Uses `dvs compare A B --json` (medians of pooled histograms, Mann-Whitney U, verdict) when the
    dvs binary is found; else the p50 ratio of the median repetitions, untested."""
    out = []
    if len(runs) < 2:
        return out
    dvs_bin = dvs_bin or paths.find_binary("dvs")
    a = runs[0]
    for b in runs[1:]:
        title = "A/B: %s (A) vs %s (B)" % (a.run_id, b.run_id)
        data, why = (None, "no dvs binary") if not dvs_bin else _compare_json(dvs_bin, a.path, b.path)
        if data is not None:
            cells = data.get("cells", [])
            t = pd.DataFrame({
                "cell": [c.get("cell") for c in cells],
                "p50 A": [style.fmt_ns(c.get("p50_a")) for c in cells],
                "p50 B": [style.fmt_ns(c.get("p50_b")) for c in cells],
                "B/A": ["%.3f" % c["ratio"] if c.get("ratio") is not None else "–" for c in cells],
                "change": ["%+.1f %%" % c["change_pct"] if c.get("change_pct") is not None else "–" for c in cells],
                "test": [c.get("test", "") for c in cells],
                "p": ["%.2g" % c["p_value"] if c.get("p_value") is not None else "–" for c in cells],
                "verdict": [c.get("verdict", "") for c in cells],
            })
            notes = list(data.get("notes", []))
            note = ("`dvs compare` (threshold %.0f %%, alpha %s): verdicts need both the threshold and p < alpha."
                    % (100 * float(data.get("threshold", 0.05)), data.get("alpha")))
            if data.get("only_in_a") or data.get("only_in_b"):
                note += " Only in A: %d cells, only in B: %d cells." % (len(data.get("only_in_a", [])),
                                                                        len(data.get("only_in_b", [])))
            if notes:
                note += " Conditions that differ: " + "; ".join(str(n) for n in notes)
            out.append((title, note, t))
            continue
        ca, cb = _ok(a).set_index("cell"), _ok(b).set_index("cell")
        common = [c for c in ca.index if c in cb.index]
        t = pd.DataFrame({
            "cell": common,
            "p50 A": [style.fmt_ns(ca.loc[c, "latency_p50"]) for c in common],
            "p50 B": [style.fmt_ns(cb.loc[c, "latency_p50"]) for c in common],
            "B/A": ["%.3f" % (cb.loc[c, "latency_p50"] / ca.loc[c, "latency_p50"]) if ca.loc[c, "latency_p50"]
                    else "–" for c in common],
        })
        out.append((title, "p50 ratios of the median repetitions of the common cells, untested (`dvs compare`: %s)." % why, t))
    return out


def _md_escape(v):
    s = "" if v is None or (isinstance(v, float) and v != v) else str(v)
    return s.replace("|", "\\|").replace("\n", " ")


def to_markdown(df, index=False):
    if df is None or df.empty:
        return "_(no rows)_\n"
    cols = ([df.index.name or ""] if index else []) + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(_md_escape(c) for c in cols) + " |",
             "|" + "|".join("---" for _ in cols) + "|"]
    for idx, row in df.iterrows():
        vals = ([idx] if index else []) + list(row.values)
        lines.append("| " + " | ".join(_md_escape(v) for v in vals) + " |")
    return "\n".join(lines) + "\n"
