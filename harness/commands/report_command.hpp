// `dvs report RUN [RUN...]`: the HTML + Markdown report of run directories (docs/REPORT.md).
// The work is done by the Python analysis package (python/dvs_analysis/report.py) under Debian's
// /usr/bin/python3; this command finds the package and runs it:
//   1. $DVS_PYTHON_DIR, 2. <dir of dvs>/../share/dvs/python (an install), 3. <source>/python
//   (the build tree: the source directory compiled in).
// `--latest` reports the newest run directory under <source>/results/runs (or --results DIR).
// Exit status: the report's (0 written, 2 bad input); 2 if the package or python3 is missing.
// (harness/results/report.cpp is something else: the table and files `dvs run` writes.)
#ifndef DVS_HARNESS_CLI_REPORT_COMMAND_HPP
#define DVS_HARNESS_CLI_REPORT_COMMAND_HPP

#include <string>

#include "harness/commands/command.hpp"

namespace dvs::cli {

// `dvs report`; its run returns the status above.
Command make_report_command();

// The directory holding dvs_analysis/ and dvs/ (first match of the order above), or "" with
// *tried listing the places looked at.
std::string find_python_dir(std::string* tried);

}  // namespace dvs::cli

#endif
