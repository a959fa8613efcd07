"""Shared look of the figures: readable fonts, units in axis labels, baselines visibly different
(grey, dashed, hatched) from dvs series (colours, solid)."""

import re

import matplotlib
from matplotlib import ticker

RC = {
    "figure.figsize": (8.0, 4.8),
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "legend.framealpha": 0.9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linestyle": "-",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
}

DVS_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
              "#bcbd22", "#7f7f7f"]
BASELINE_COLORS = ["#555555", "#999999", "#333333", "#777777", "#aaaaaa", "#222222"]
BASELINE_STYLES = ["--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 1))]
BASELINE_HATCH = "///"


def apply():
    matplotlib.rcParams.update(RC)


def dvs_color(i):
    return DVS_COLORS[i % len(DVS_COLORS)]


def baseline_style(i):
    return {"color": BASELINE_COLORS[i % len(BASELINE_COLORS)], "linestyle": BASELINE_STYLES[i % len(BASELINE_STYLES)]}


def fmt_ns(ns):
    """'850 ns', '12.3 µs', '1.20 ms', '2.00 s'."""
    if ns is None or ns != ns:
        return "–"
    ns = float(ns)
    if ns < 1e3:
        return "%.0f ns" % ns
    if ns < 1e6:
        return "%.3g µs" % (ns / 1e3)
    if ns < 1e9:
        return "%.3g ms" % (ns / 1e6)
    return "%.3g s" % (ns / 1e9)


def fmt_rate(v):
    """'742 k', '1.07 M' (msgs/s or MB/s)."""
    if v is None or v != v:
        return "–"
    v = float(v)
    if abs(v) >= 1e6:
        return "%.3g M" % (v / 1e6)
    if abs(v) >= 1e4:
        return "%.3g k" % (v / 1e3)
    if abs(v) >= 100:
        return "%.0f" % v
    return "%.3g" % v


def fmt_bytes(b):
    b = int(b)
    for unit, n in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= n and b % n == 0:
            return "%d %s" % (b // n, unit)
    return "%d B" % b


def bytes_axis(ax, axis="x"):
    """Log2 axis of byte sizes with readable tick labels."""
    a = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log", base=2)
    a.set_major_formatter(ticker.FuncFormatter(lambda v, _: fmt_bytes(v) if v >= 1 and float(v).is_integer() else ""))


def us_axis(ax, axis="x", log=True):
    """A time axis in µs (values plotted in µs)."""
    setter = ax.set_xscale if axis == "x" else ax.set_yscale
    if log:
        setter("log")
    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_formatter(ticker.FuncFormatter(lambda v, _: ("%g" % v)))


def rate_axis(ax, axis="y"):
    a = ax.yaxis if axis == "y" else ax.xaxis
    a.set_major_formatter(ticker.FuncFormatter(lambda v, _: fmt_rate(v) if v else "0"))


_SIZE_RE = re.compile(r",?\s*\b\d+(\.\d+)?\s*(B|KiB|MiB|KB|MB|bytes)\b")


def strip_size(label):
    return _SIZE_RE.sub("", label or "").strip(" ,")
