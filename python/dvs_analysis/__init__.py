"""dvs_analysis: the standard tables and figures of dvs results, and `dvs report`.

    from dvs import results
    from dvs_analysis import figures, tables
    run = results.load_run("results/runs/<run-id>")
    figures.latency_cdf(run).savefig("cdf.png")
    tables.baseline_ratios(run)

docs/PYTHON.md, docs/REPORT.md.
"""

from . import figures, style, tables  # noqa: F401
from .figures import standard_figures  # noqa: F401
