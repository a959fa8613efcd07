"""`dvs report RUN [RUN...]`: one HTML page (self-contained: figures embedded as PNG) and one
Markdown page, plus every figure as PNG and SVG beside them. docs/REPORT.md.

    python3 -m dvs_analysis.report RUN [RUN...] [--out DIR] [--dvs BIN] [--title T]

Default DIR: <first run>/report. Exit status 0 written, 2 bad input (one line on stderr).
"""

import argparse
import base64
import datetime
import html
import io
import os
import sys

import matplotlib

matplotlib.use("Agg")

from dvs import results as dres  # noqa: E402

from . import figures, tables  # noqa: E402

CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px;
       padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .85em; color: #555; }
.note { font-size: .85em; color: #555; } code { background: #f6f6f6; padding: 0 .2em; }
"""

CAPTIONS = {
    "latency_cdf": "Round-trip latency CDF of every dvs message cell (solid, colour) with the raw baselines it is "
                   "compared with (grey, dashed), from the stored log-linear histograms (±0.39 %).",
    "latency_tail": "The same distributions as 1 − CDF on log axes: how often a round trip is slower than x "
                    "(p99 and p99.9 marked).",
    "percentile_vs_size": "Copy rows: time per block (p50 thick, p99 dotted) and throughput against block size; "
                          "baselines grey and dashed.",
    "throughput_vs_pairs": "Aggregate message rate of concurrent client/server pairs; horizontal lines: the raw "
                           "baseline's one-pair rate.",
    "transport_comparison": "p50 round trip of every dvs message cell (bar) and p99 (whisker), each followed by "
                            "its raw baseline measured in the same run (hatched grey); ×N = dvs p50 / baseline p50.",
    "ab_p50_ratio": "p50 of every cell the runs share, relative to the first run (A).",
    "reproduction": "Normalised comparison with the published M3-IPC figures: published / published baseline "
                    "vs ours / our baseline (1 = as fast as the baseline).",
}


def _caption(name):
    for k, v in CAPTIONS.items():
        if name.startswith(k):
            return v
    return ""


def _html_table(df):
    if df is None or df.empty:
        return "<p class='note'>(no rows)</p>"
    return df.to_html(index=False, escape=True, border=0, na_rep="–")


def _save(fig, figdir, name):
    png = os.path.join(figdir, name + ".png")
    svg = os.path.join(figdir, name + ".svg")
    fig.savefig(png)
    fig.savefig(svg)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return png, svg, base64.b64encode(buf.getvalue()).decode()


def build(run_dirs, out_dir=None, dvs_bin=None, title=None):
    """Writes the report; returns (html_path, md_path, {figure name: (png, svg)})."""
    runs = [dres.load_run(d) for d in run_dirs]
    out_dir = os.path.abspath(out_dir or os.path.join(runs[0].path, "report"))
    figdir = os.path.join(out_dir, "figures")
    os.makedirs(figdir, exist_ok=True)
    title = title or ("dvs report: " + ", ".join(r.run_id for r in runs))
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    h = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
         "<title>%s</title><style>%s</style></head><body>" % (html.escape(title), CSS),
         "<h1>%s</h1>" % html.escape(title),
         "<p class='note'>Written %s by <code>dvs report</code>. Times are round trips (RTT: one 64-byte message "
         "each way) unless a row says per block; msgs/s counts both directions; MB = 10<sup>6</sup> B. "
         "Figures as PNG and SVG in <code>figures/</code> beside this file.</p>" % now]
    md = ["# %s" % title, "",
          "Written %s by `dvs report`. Times are round trips (RTT: one 64-byte message each way) unless a row says "
          "per block; msgs/s counts both directions; MB = 10^6 B. Figures (PNG and SVG) in `figures/`." % now, ""]

    # ---- machines and runs
    h.append("<h2>Runs and machines</h2>")
    md += ["## Runs and machines", ""]
    for r in runs:
        mt = r.machine()
        h.append("<h3>%s</h3><p class='note'><code>%s</code></p>" % (html.escape(r.run_id), html.escape(r.path)))
        h.append("<table>" + "".join("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(str(k)), html.escape(str(v)))
                                     for k, v in mt) + "</table>")
        md += ["### %s" % r.run_id, "", "`%s`" % r.path, "", "| field | value |", "|---|---|"]
        md += ["| %s | %s |" % (tables._md_escape(k), tables._md_escape(v)) for k, v in mt]
        md.append("")
        if r.meta.get("interrupted") or r.meta.get("finished") is False:
            warn = "This run was interrupted or did not finish: the tables hold what was measured."
            h.append("<p><b>%s</b></p>" % warn)
            md += ["**%s**" % warn, ""]

    # ---- comparison tables
    for r in runs:
        sfx = " — %s" % r.run_id if len(runs) > 1 else ""
        br = tables.baseline_ratios_formatted(r)
        if not br.empty:
            h.append("<h2>dvs against the raw baselines%s</h2>" % html.escape(sfx))
            h.append("<p class='note'>Each dvs cell beside the raw mechanism measured in the same run with the same "
                     "placement (median repetition by p50). Ratio: how many times slower than the baseline (>1 slower): "
                     "p50 / baseline p50 for round trips, baseline rate / rate for MB/s and msgs/s rows; the "
                     "median of the per-repetition ratios, as the terminal table prints it.</p>")
            h.append(_html_table(br))
            md += ["## dvs against the raw baselines%s" % sfx, "",
                   "Median repetition by p50; ratio: how many times slower than the baseline (>1 slower): p50 / "
                   "baseline p50 for round trips, baseline rate / rate for MB/s and msgs/s rows; the median of "
                   "the per-repetition ratios, as the terminal table prints it.", "", tables.to_markdown(br)]
        pr = tables.peer_ratios_formatted(r)
        if not pr.empty:
            note = ("Peer IPC libraries measured in the same run with the same placement, each with its own "
                    "blocking send/receive: compared with dvs sendrec whose endpoints block (median repetition by "
                    "p50). Ratio: how many times slower than dvs (>1 slower): p50 peer / p50 dvs.")
            h.append("<h2>Peer libraries (NNG, ZeroMQ) beside dvs%s</h2>" % html.escape(sfx))
            h.append("<p class='note'>%s</p>" % html.escape(note))
            h.append(_html_table(pr))
            md += ["## Peer libraries (NNG, ZeroMQ) beside dvs%s" % sfx, "", note, "", tables.to_markdown(pr)]
        for t_title, note, t in tables.reproduction_tables(r):
            h.append("<h2>%s%s</h2><p class='note'>%s</p>" % (html.escape(t_title), html.escape(sfx), html.escape(note)))
            h.append(_html_table(t))
            md += ["## %s%s" % (t_title, sfx), "", note, "", tables.to_markdown(t)]
    for t_title, note, t in tables.ab(runs, dvs_bin):
        h.append("<h2>%s</h2><p class='note'>%s</p>" % (html.escape(t_title), html.escape(note)))
        h.append(_html_table(t))
        md += ["## %s" % t_title, "", note, "", tables.to_markdown(t)]

    # ---- figures
    figs = figures.standard_figures(runs)
    saved = {}
    h.append("<h2>Figures</h2>")
    md += ["## Figures", ""]
    if not figs:
        h.append("<p class='note'>No figure: the runs have no rows with data to plot.</p>")
        md += ["No figure: the runs have no rows with data to plot.", ""]
    for name, fig in figs.items():
        png, svg, b64 = _save(fig, figdir, name)
        saved[name] = (png, svg)
        cap = _caption(name)
        h.append("<figure id='%s'><img alt='%s' src='data:image/png;base64,%s'><figcaption><b>%s</b> %s "
                 "(<a href='figures/%s.png'>PNG</a>, <a href='figures/%s.svg'>SVG</a>)</figcaption></figure>"
                 % (html.escape(name), html.escape(name), b64, html.escape(name), html.escape(cap), name, name))
        md += ["### %s" % name, "", "![%s](figures/%s.png)" % (name, name), "",
               "%s ([SVG](figures/%s.svg))" % (cap, name), ""]

    # ---- every cell
    for r in runs:
        s = tables.summary_formatted(r)
        if s.empty:
            continue
        sfx = " — %s" % r.run_id if len(runs) > 1 else ""
        h.append("<h2>All cells%s</h2>" % html.escape(sfx))
        h.append(_html_table(s))
        md += ["## All cells%s" % sfx, "", tables.to_markdown(s)]

    h.append("</body></html>")
    html_path = os.path.join(out_dir, "report.html")
    md_path = os.path.join(out_dir, "report.md")
    with open(html_path, "w") as f:
        f.write("\n".join(h))
    with open(md_path, "w") as f:
        f.write("\n".join(md))
    return html_path, md_path, saved


def main(argv=None):
    ap = argparse.ArgumentParser(prog="dvs report", description="HTML + Markdown report of dvs run directories")
    ap.add_argument("runs", nargs="+", metavar="RUN", help="run directories (the first is A in A/B tables)")
    ap.add_argument("--out", help="output directory (default: <first run>/report)")
    ap.add_argument("--dvs", help="dvs binary for `dvs compare` (default: $DVS_BIN or the build tree)")
    ap.add_argument("--title", help="report title")
    a = ap.parse_args(argv)
    for d in a.runs:
        if not os.path.isdir(d):
            print("dvs report: error: no run directory %s" % d, file=sys.stderr)
            return 2
        if not (os.path.exists(os.path.join(d, "meta.json")) or os.path.exists(os.path.join(d, "runs.jsonl"))):
            print("dvs report: error: %s has neither meta.json nor runs.jsonl" % d, file=sys.stderr)
            return 2
    html_path, md_path, saved = build(a.runs, a.out, a.dvs, a.title)
    print("report: %s" % html_path)
    print("        %s" % md_path)
    print("        %d figures (PNG + SVG) in %s" % (len(saved), os.path.join(os.path.dirname(html_path), "figures")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
