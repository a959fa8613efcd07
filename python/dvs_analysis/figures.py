"""The standard figures of a dvs run (matplotlib). Every function takes a dvs.results.Run (or
several) and returns a matplotlib Figure, or None when the run has nothing of that kind.

  latency_cdf(run)            round-trip CDFs from the stored histograms, one panel per transport x
                              wait strategy, each dvs cell with the baselines it is compared with
  latency_tail(run)           the same as 1 - CDF on log axes (the tail: p99, p99.9, ...)
  percentile_vs_size(run)     copy rows: p50 / p99 time per block and MB/s against block size
  throughput_vs_pairs(run)    concurrent pairs rows: aggregate msgs/s against pairs
  transport_comparison(run)   p50 RTT of every dvs message cell next to its raw baseline (p99 whisker)
  reproduction(run)           `dvs reproduce m3ipc`: ours vs published, normalised to the baseline
  ab_comparison(runs)         B/A p50 ratio per common cell
"""

import functools
import json
import re
import subprocess
import textwrap

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from dvs import paths
from dvs import results as dres

from . import style

style.apply()


# ---------------------------------------------------------------- row helpers

def _ok(run):
    c = run.cells
    return c[c["status"] == "ok"].copy()


LOCAL = "local"  # the harness's "no transport, one node" (`dvs transports --json`'s "local")


def transport_of(row):
    t = row.get("transport")
    if isinstance(t, str) and t:
        return t
    sec = row.get("section")
    if isinstance(sec, str) and sec.startswith("remote"):
        return "tcp"
    return LOCAL


@functools.lru_cache(maxsize=None)
def registered_transports(dvs_bin=None):
    """((scheme, label), ...) of `dvs transports --json`, in its order (DVS_TRANSPORTS), or None
    when no dvs binary answers (reading old results needs none: see transport_ranks)."""
    dvs_bin = dvs_bin or paths.find_binary("dvs")
    if not dvs_bin:
        return None
    try:
        p = subprocess.run([dvs_bin, "transports", "--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, timeout=30)
        doc = json.loads(p.stdout) if p.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("transports"), list):
        return None  # a dvs without the command
    return tuple((t["scheme"], t.get("label") or t["scheme"]) for t in doc["transports"])


def transport_ranks(seen, registered=None):
    """{scheme: (rank, label)} for the transports `seen` in a run's rows: local first, then the
    registered ones in `dvs transports` order (registered: its (scheme, label) pairs, default
    registered_transports()), then any other (an old run's, a test's) in the order seen,
    labelled by its scheme."""
    if registered is None:
        registered = registered_transports() or ()
    ranks = {LOCAL: (0, LOCAL)}
    for scheme, label in registered:
        ranks.setdefault(scheme, (len(ranks), label))
    for t in seen:
        ranks.setdefault(t, (len(ranks), t))
    return ranks


_PAIRS_RE = re.compile(r"(^|/)pairs\d+(/|$)")


def _is_pairs(row):
    """A concurrent-pairs row (remote/dvs/pairsN/batchB, b/pairsN/...): ordinary remote dvs rows
    carry pairs = 1 too, so the cell id decides."""
    p = row.get("pairs")
    return p is not None and p == p and bool(_PAIRS_RE.search(str(row.get("cell", ""))))


def short_label(row, with_wait=True, with_placement=False):
    """A legend label: the row's label (or primitive), its transport if not local, its wait."""
    label = row.get("label")
    if not isinstance(label, str) or not label:
        label = row.get("primitive") or row.get("cell")
    label = style.strip_size(label)
    if row.get("mechanism") == "dvs" and not label.lower().startswith("dvs"):
        label = "dvs " + label
    t = transport_of(row)
    parts = [label]
    if t != LOCAL and not t.startswith("raw") and t.lower() not in label.lower():
        parts.append("over " + t)
    if with_wait and isinstance(row.get("wait"), str) and row["wait"] not in label:
        parts.append("(%s)" % row["wait"])
    if with_placement and isinstance(row.get("placement"), str) and row["placement"] not in label:
        parts.append("[%s]" % row["placement"])
    return " ".join(parts)


def baseline_of(row, ok, by_cell=None):
    """The baseline row of a dvs row: its `baseline` field, else (runs whose rows do not name one,
    e.g. `dvs reproduce`) the raw mechanism of the same section, kind and placement: a pipe locally,
    raw TCP across nodes. None if there is none."""
    by_cell = by_cell if by_cell is not None else {r["cell"]: r for _, r in ok.iterrows()}
    b = row.get("baseline")
    if isinstance(b, str) and b:
        return by_cell.get(b)
    note = row.get("ratio_note")
    if isinstance(note, str) and note:
        return None  # the run says why this row has no baseline (e.g. none on its network)
    base = ok[(ok["mechanism"] == "baseline") & (ok["kind"] == row.get("kind"))]
    for col in ("section", "placement"):
        v = row.get(col)
        if isinstance(v, str):
            base = base[base[col] == v]
    size = row.get("size_bytes")
    if row.get("kind") == "copy" and size == size:
        base = base[base["size_bytes"] == size]
    if base.empty:
        return None
    remote = transport_of(row) != LOCAL or str(row.get("section", "")).startswith("remote")
    prefs = ("tcp",) if remote else ("pipe", "shm")
    for p in prefs:
        hit = base[base["cell"].str.contains(p, regex=False)]
        if not hit.empty:
            return hit.iloc[0]
    return None


def _message_rows(run):
    ok = _ok(run)
    if ok.empty:
        return ok
    m = ok[(ok["kind"] == "pingpong")]
    return m[[not _is_pairs(r) for _, r in m.iterrows()]]


def _fig(nrows=1, ncols=1, width=8.0, height=4.8, **kw):
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


# ---------------------------------------------------------------- latency CDFs

def _cdf_panels(run):
    """[(title, [dvs rows], [baseline rows])], one per transport x wait of the dvs message cells."""
    msgs = _message_rows(run)
    if msgs.empty:
        return []
    hist_cells = set(run.histograms["cell"].unique())
    ok = _ok(run)
    by_cell = {r["cell"]: r for _, r in ok.iterrows()}
    panels = {}
    for _, r in msgs[msgs["mechanism"] == "dvs"].iterrows():
        if r["cell"] not in hist_cells:
            continue
        key = (transport_of(r), r.get("wait") or "", r.get("placement") or "")
        panels.setdefault(key, ([], {}))
        panels[key][0].append(r)
        b = baseline_of(r, ok, by_cell)
        if b is not None and b["cell"] in hist_cells:
            panels[key][1][b["cell"]] = b
    if not panels:  # no dvs cells (e.g. a baseline-only run): one panel of everything
        rows = [r for _, r in msgs.iterrows() if r["cell"] in hist_cells]
        return [("all message cells", rows, [])] if rows else []
    placements = {k[2] for k in panels}
    out = []
    ranks = transport_ranks([k[0] for k in panels])
    waits = {"spin": 0, "spin-then-block": 1, "block": 2}
    for key in sorted(panels, key=lambda k: (ranks[k[0]][0], waits.get(k[1], 9), k[2])):
        t, w, pl = key
        title = "%s, %s wait" % ("local (one node)" if t == LOCAL else ranks[t][1] + " (two nodes)", w)
        if len(placements) > 1 and pl:
            title += ", " + pl
        out.append((title, panels[key][0], list(panels[key][1].values())))
    return out


def _cdf_xy(run, cell, tail):
    """Step coordinates of a cell's CDF (x in µs), or of 1 - CDF without its zero tail; None if empty."""
    c = run.cdf(cell)
    if c.empty:
        return None
    x = np.concatenate([[c["value_ns"].iloc[0]], c["upper_ns"].to_numpy()]) / 1e3
    y = np.concatenate([[0.0], c["fraction"].to_numpy()])
    if tail:
        y = 1.0 - y
        keep = y > 0
        x, y = x[keep], y[keep]
    return x, y


def _plot_cdf_panel(ax, run, dvs_rows, base_rows, tail):
    series = [(r, {"color": style.dvs_color(i), "linewidth": 1.8}, "") for i, r in enumerate(dvs_rows)]
    series += [(r, dict(style.baseline_style(j), linewidth=1.6), "baseline: ") for j, r in enumerate(base_rows)]
    lines = 0
    for r, st, prefix in series:
        xy = _cdf_xy(run, r["cell"], tail)
        if xy is None:
            continue
        ax.step(xy[0], xy[1], where="post", label=prefix + short_label(r, with_wait=False), **st)
        lines += 1
    return lines


def _cdf_figure(run, tail, max_panels):
    panels = _cdf_panels(run)[:max_panels]
    if not panels:
        return None
    n = len(panels)
    ncols = 1 if n == 1 else 2
    nrows = (n + ncols - 1) // ncols
    fig, axes = _fig(nrows, ncols, width=6.2 * ncols, height=3.9 * nrows + 0.6)
    for k, (title, dvs_rows, base_rows) in enumerate(panels):
        ax = axes[k // ncols][k % ncols]
        _plot_cdf_panel(ax, run, dvs_rows, base_rows, tail)
        ax.set_xscale("log")
        style.us_axis(ax, "x")
        ax.set_xlabel("round-trip time (µs, log scale)")
        if tail:
            ax.set_yscale("log")
            ax.set_ylabel("fraction of round trips slower (1 − CDF)")
            for q, name in ((1e-2, "p99"), (1e-3, "p99.9")):
                ax.axhline(q, color="#bbbbbb", linewidth=0.8, zorder=0)
                ax.text(1.0, q, " " + name, transform=ax.get_yaxis_transform(), fontsize=8, color="#666666",
                        va="center", ha="left", clip_on=False)
        else:
            ax.set_ylim(0, 1.02)
            ax.set_ylabel("fraction of round trips ≤ x (CDF)")
            ax.axhline(0.5, color="#bbbbbb", linewidth=0.8, zorder=0)
        ax.set_title(title)
        ax.legend(loc="lower right" if not tail else "upper right")
    for k in range(n, nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    what = "tail (1 − CDF)" if tail else "CDF"
    fig.suptitle("Round-trip latency %s, 64-byte messages — run %s\nsolid: dvs, dashed/grey: raw baselines "
                 "measured in the same run" % (what, run.run_id), fontsize=11)
    fig.tight_layout()
    return fig


def latency_cdf(run, max_panels=8):
    return _cdf_figure(run, tail=False, max_panels=max_panels)


def latency_tail(run, max_panels=8):
    return _cdf_figure(run, tail=True, max_panels=max_panels)


# ---------------------------------------------------------------- size sweeps

def _series_key(r):
    size = r.get("size_bytes")
    parts = [p for p in str(r["cell"]).split("/")
             if not (size == size and size is not None and p == str(int(size)))]
    return "/".join(parts)


def percentile_vs_size(run):
    ok = _ok(run)
    if ok.empty:
        return None
    copy = ok[(ok["kind"] == "copy") & ok["size_bytes"].notna()].copy()
    if copy.empty:
        return None
    copy["series"] = [_series_key(r) for _, r in copy.iterrows()]
    fig, axes = _fig(1, 2, width=13.0, height=5.0)
    ax_t, ax_r = axes[0]
    di = bi = 0
    handles = []
    for key, g in sorted(copy.groupby("series"), key=lambda kv: (kv[1]["mechanism"].iloc[0] != "dvs", kv[0])):
        g = g.sort_values("size_bytes")
        r0 = g.iloc[0]
        label = short_label(r0)
        x = g["size_bytes"].to_numpy(dtype=float)
        if r0["mechanism"] == "dvs":
            st = {"color": style.dvs_color(di), "linestyle": "-"}
            di += 1
            marker = "o"
        else:
            st = style.baseline_style(bi)
            bi += 1
            marker = "s"
            label = "baseline: " + label
        ax_t.plot(x, g["latency_p50"] / 1e3, marker=marker, markersize=4, linewidth=1.6, **st)
        ax_t.plot(x, g["latency_p99"] / 1e3, marker=marker, markersize=2.5, linewidth=0.9, alpha=0.55,
                  color=st["color"], linestyle=":")
        ax_r.plot(x, g["mb_per_s"], marker=marker, markersize=4, linewidth=1.6, **st)
        handles.append(Line2D([], [], marker=marker, markersize=4, linewidth=1.6, label=label, **st))
    for ax in (ax_t, ax_r):
        style.bytes_axis(ax, "x")
        ax.set_xlabel("block size (bytes, log scale)")
    ax_t.set_yscale("log")
    style.us_axis(ax_t, "y")
    ax_t.set_ylabel("time per block, one way (µs, log scale)")
    ax_t.set_title("Time per block: p50 (thick), p99 (thin, dotted)")
    ax_r.set_yscale("log")
    ax_r.set_ylabel("throughput (MB/s = 10⁶ B/s, log scale)")
    style.rate_axis(ax_r, "y")
    ax_r.set_title("Throughput")
    fig.legend(handles=handles, loc="lower center", ncol=min(3, max(1, len(handles))), fontsize=8,
               bbox_to_anchor=(0.5, -0.01))
    fig.suptitle("Copy cost against block size — run %s (solid/colour: dvs vcopy; grey/dashed: raw baselines)"
                 % run.run_id, fontsize=11)
    rows_legend = (len(handles) + 2) // 3
    fig.tight_layout(rect=(0, 0.04 + 0.035 * rows_legend, 1, 1))
    return fig


# ---------------------------------------------------------------- pairs

def throughput_vs_pairs(run):
    ok = _ok(run)
    if ok.empty:
        return None
    pairs = ok[[(_is_pairs(r) and r["mechanism"] == "dvs") for _, r in ok.iterrows()]].copy()
    if pairs.empty:
        return None
    pairs["pairs"] = pairs["pairs"].astype(int)
    group_cols = [c for c in ("section", "transport", "dvsd_batch", "wait") if c in pairs.columns]
    fig, axes = _fig(1, 1, width=8.0, height=5.0)
    ax = axes[0][0]
    i = 0
    for key, g in pairs.groupby([pairs[c].astype(str) for c in group_cols]):
        g = g.sort_values("pairs")
        r0 = g.iloc[0]
        bits = []
        t = transport_of(r0)
        bits.append(LOCAL if t == LOCAL else "over " + t)
        b = r0.get("dvsd_batch")
        if b is not None and b == b:
            bits.append("batch %d" % int(b))
        if isinstance(r0.get("wait"), str):
            bits.append(r0["wait"])
        ax.plot(g["pairs"], g["msgs_per_s"], marker="o", linewidth=1.8, color=style.dvs_color(i),
                label="dvs sendrec pairs, " + ", ".join(bits))
        i += 1
    # baselines: the raw ping-pong of the same section/transport, one pair
    bl = ok[(ok["mechanism"] == "baseline") & (ok["kind"] == "pingpong")]
    sections = set(pairs["section"].dropna().astype(str))
    shown = 0
    for _, r in bl.iterrows():
        remote_pairs = any(s.startswith("remote") for s in sections)
        is_remote = transport_of(r) != LOCAL or str(r.get("section", "")).startswith("remote")
        if remote_pairs != is_remote:
            continue
        if not remote_pairs and "pipe" not in str(r["cell"]):
            continue
        st = style.baseline_style(shown)
        ax.axhline(r["msgs_per_s"], linewidth=1.4, label="baseline (1 pair): %s" % short_label(r), **st)
        shown += 1
        if shown >= 3:
            break
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(pairs["pairs"].unique()))
    ax.get_xaxis().set_major_formatter(lambda v, _: "%d" % v)
    ax.set_xlabel("concurrent client/server pairs")
    ax.set_ylabel("aggregate message rate (msgs/s, both directions)")
    ax.set_ylim(bottom=0)
    style.rate_axis(ax, "y")
    ax.set_title("Throughput against concurrent pairs — run %s" % run.run_id)
    ax.legend(loc="best")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- transports and baselines

def transport_comparison(run):
    msgs = _message_rows(run)
    if msgs.empty:
        return None
    dvs_rows = msgs[msgs["mechanism"] == "dvs"]
    if dvs_rows.empty:
        return None
    ok = _ok(run)
    by_cell = {r["cell"]: r for _, r in ok.iterrows()}
    multi_pl = dvs_rows["placement"].nunique() > 1
    ranks = transport_ranks([transport_of(r) for _, r in dvs_rows.iterrows()])
    waits = {"spin": 0, "spin-then-block": 1, "block": 2}
    items = sorted((r for _, r in dvs_rows.iterrows()),
                   key=lambda r: (ranks[transport_of(r)][0], str(r.get("primitive") or r.get("label")),
                                  waits.get(r.get("wait"), 9), str(r.get("placement"))))
    transports = []
    for r in items:
        if transport_of(r) not in transports:
            transports.append(transport_of(r))
    tcolor = {t: style.dvs_color(i) for i, t in enumerate(transports)}
    bars = []  # (label, value_us, p99_us, color, is_baseline, ratio)
    for r in items:
        b = baseline_of(r, ok, by_cell)
        ratio = r.get("ratio_to_baseline", np.nan)  # the run's (ratio.hpp), not recomputed
        bars.append((short_label(r, with_placement=multi_pl), r["latency_p50"] / 1e3, r["latency_p99"] / 1e3, tcolor[transport_of(r)], False,
                     ratio))
        if b is not None:
            bars.append(("   vs " + short_label(b), b["latency_p50"] / 1e3, b["latency_p99"] / 1e3, "#9a9a9a", True,
                         np.nan))
    n = len(bars)
    fig, axes = _fig(1, 1, width=10.0, height=max(3.0, 0.28 * n + 2.4))
    ax = axes[0][0]
    y = np.arange(n)[::-1]
    for yi, (label, v, p99, color, is_base, ratio) in zip(y, bars):
        ax.barh(yi, v, color=color, edgecolor="#444444" if is_base else color, linewidth=0.6,
                hatch=style.BASELINE_HATCH if is_base else None, height=0.75)
        if p99 == p99 and p99 > v:
            ax.plot([v, p99], [yi, yi], color="#333333", linewidth=0.9)
            ax.plot([p99], [yi], marker="|", color="#333333", markersize=6)
        if ratio == ratio:
            ax.text(1.01, yi, "×%.2f" % ratio, va="center", ha="left", fontsize=8, color="#222222",
                    transform=ax.get_yaxis_transform(), clip_on=False)
    ax.text(1.01, n - 0.35, "ratio", va="center", ha="left", fontsize=8, color="#222222",
            fontweight="bold", transform=ax.get_yaxis_transform(), clip_on=False)
    ax.set_yticks(y)
    ax.set_yticklabels([b[0] for b in bars], fontsize=8)
    ax.set_ylim(-0.7, n + 0.1)
    ax.set_xscale("log")
    style.us_axis(ax, "x")
    ax.set_xlabel("round-trip time, p50 bar, p99 whisker (µs, log scale)")
    ax.set_ylabel("cell (each dvs bar followed by its baseline)")
    ax.grid(axis="y", visible=False)
    handles = [Patch(color=tcolor[t], label="dvs over %s" % ranks[t][1] if t != LOCAL else "dvs, local")
               for t in transports]
    handles.append(Patch(facecolor="#9a9a9a", edgecolor="#444444", hatch=style.BASELINE_HATCH,
                         label="raw baseline (same run, same placement)"))
    handles.append(Line2D([], [], color="#333333", marker="|", label="p99"))
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, 0.0))
    ax.set_title("dvs message round trips by transport, with their raw baselines — run %s\n"
                 "×N: the run's ratio to the baseline, p50 / baseline p50 (>1 slower)" % run.run_id)
    fig.tight_layout(rect=(0, 0.45 / fig.get_figheight(), 0.93, 1))
    return fig


# ---------------------------------------------------------------- reproduction

def reproduction(run):
    """{table name: Figure} for a `dvs reproduce m3ipc` run (empty dict otherwise)."""
    df = run.reproduction
    out = {}
    if df is None or df.empty:
        return out
    for (ti, table), g in df.groupby(["table_index", "table"], sort=True):
        g = g[g["published_norm"].notna() | g["ours_norm"].notna()]
        if g.empty:
            continue
        n = len(g)
        fig, axes = _fig(1, 1, width=10.0, height=max(3.0, 0.36 * n + 1.8))
        ax = axes[0][0]
        y = np.arange(n)[::-1]
        h = 0.38
        pub = g["published_norm"].to_numpy(dtype=float)
        ours = g["ours_norm"].to_numpy(dtype=float)
        # log scale, bars drawn from the baseline (1): right of it = faster than the baseline
        def bars(yy, v, **kw):
            ok = v == v
            ax.barh(yy[ok], v[ok] - 1.0, left=1.0, height=h, **kw)
            ax.plot(v[ok], yy[ok], linestyle="none", marker="D", markersize=3.5, color=kw["color"],
                    markeredgecolor="#333333", markeredgewidth=0.5)  # visible even at exactly 1

        bars(y + h / 2, pub, color="#f4a259", label="published M3-IPC (paper)")
        bars(y - h / 2, ours, color=style.dvs_color(0), label="dvs, this run")
        for yi, p, o in zip(y, pub, ours):
            if p != p:
                ax.text(1.0, yi + h / 2, " not published", va="center", fontsize=7, color="#888888")
            if o != o:
                ax.text(1.0, yi - h / 2, " not measured here", va="center", fontsize=7, color="#888888")
        ax.axvline(1.0, color="#333333", linestyle="--", linewidth=1.2, label="baseline = 1")
        ax.set_yticks(y)
        ax.set_yticklabels([str(r)[:60] for r in g["row"]], fontsize=8)
        ax.set_ylabel("row of the published table")
        ax.set_xscale("log")
        vals = np.concatenate([pub[pub > 0], ours[ours > 0], [1.0]])
        ax.set_xlim(min(vals.min(), 1.0) / 1.3, max(vals.max(), 1.0) * 1.3)
        ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: "%g" % v))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.grid(axis="y", visible=False)
        first = g.iloc[0]
        base = first.get("base") or "the baseline"
        ax.set_xlabel("%s / baseline (log scale; 1 = the baseline, > 1 = faster than it)"
                      % ("message rate" if "msg" in str(first.get("unit")) else "throughput"))
        ax.set_title("%s\nnormalised: published / published baseline vs ours / our baseline (same run)\n%s"
                     % (str(first.get("title") or table)[:120], "\n".join(textwrap.wrap("baseline: " + str(base), 110))),
                     fontsize=9.5)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.6 / fig.get_figheight()), ncol=3, fontsize=8)
        fig.tight_layout()
        out[str(table)] = fig
    return out


# ---------------------------------------------------------------- A/B

def ab_comparison(runs, cells=None):
    """B/A (and C/A, ...) p50 ratio of every cell the runs share (the first run is A)."""
    if len(runs) < 2:
        return None
    a = _ok(runs[0]).set_index("cell")
    series = []
    for r in runs[1:]:
        b = _ok(r).set_index("cell")
        common = [c for c in a.index if c in b.index]
        if cells is not None:
            common = [c for c in common if c in cells]
        if not common:
            continue
        ratio = pd.Series({c: b.loc[c, "latency_p50"] / a.loc[c, "latency_p50"] for c in common
                           if a.loc[c, "latency_p50"]}, dtype=float)
        series.append((r.run_id, ratio))
    if not series:
        return None
    allcells = sorted(set().union(*[set(s.index) for _, s in series]))
    n = len(allcells)
    fig, axes = _fig(1, 1, width=10.0, height=max(3.0, 0.26 * n * len(series) + 1.8))
    ax = axes[0][0]
    h = 0.8 / len(series)
    y = np.arange(n)[::-1]
    for k, (rid, s) in enumerate(series):
        vals = np.array([s.get(c, np.nan) for c in allcells])
        ax.barh(y - k * h + 0.4 - h / 2, np.nan_to_num(vals - 1.0), left=1.0, height=h, color=style.dvs_color(k),
                label="%s / %s" % (rid, runs[0].run_id))
    ax.axvline(1.0, color="#333333", linewidth=1.0)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(lambda v, _: "%g" % v)
    ax.xaxis.set_minor_formatter(lambda v, _: "%g" % v if v in (0.5, 0.8, 1.25, 1.5, 2, 3) else "")
    ax.set_yticks(y)
    ax.set_yticklabels(allcells, fontsize=7.5)
    ax.set_ylabel("cell")
    ax.set_xlabel("p50 ratio to run A (log scale; >1: slower than A, <1: faster)")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), fontsize=8, ncol=1)
    ax.set_title("A/B: p50 of every common cell relative to run A (%s)" % runs[0].run_id)
    fig.tight_layout()
    return fig


def standard_figures(runs):
    """{name: Figure} of every standard figure the runs have data for (names are file stems)."""
    if isinstance(runs, dres.Run):
        runs = [runs]
    figs = {}
    multi = len(runs) > 1
    for i, run in enumerate(runs):
        sfx = "-%d" % (i + 1) if multi else ""
        for name, fn in (("latency_cdf", latency_cdf), ("latency_tail", latency_tail),
                         ("percentile_vs_size", percentile_vs_size), ("throughput_vs_pairs", throughput_vs_pairs),
                         ("transport_comparison", transport_comparison)):
            f = fn(run)
            if f is not None:
                figs[name + sfx] = f
        for t, f in reproduction(run).items():
            figs["reproduction_%s%s" % (t, sfx)] = f
    if multi:
        f = ab_comparison(runs)
        if f is not None:
            figs["ab_p50_ratio"] = f
    return figs


def save_figure(fig, directory, name, formats=("png", "svg")):
    """Write fig as directory/name.png and .svg; returns the paths."""
    import os

    os.makedirs(directory, exist_ok=True)
    out = []
    for ext in formats:
        p = os.path.join(directory, "%s.%s" % (name, ext))
        fig.savefig(p)
        out.append(p)
    return out
