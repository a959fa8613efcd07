"""ctest fixture (dvs_py_make_runs): small real runs for the analysis, report and notebook tests,
made with the built dvs into $DVS_PY_TEST_RUNS (build/python/test-runs, emptied first):

  bench/<run-id>   dvs bench harness/scenarios/quick.toml --quick   (local + tcp/shm, sizes, baselines)
  run/<run-id>     dvs run --quick --no-remote --only ...           (the `make run` format, 2 repetitions)
  run/<run-id>     the same again                                   (a second run: A/B tables)
  remote/<run-id>  dvs run --quick --remote-only                    (remote rows incl. concurrent pairs)

and writes runs.json {"bench": dir, "run_a": dir, "run_b": dir, "remote": dir}; each command's
stdout (its terminal table) is in <kind>/stdout.txt. Smoke runs, not measurements."""

import json
import os
import shutil
import subprocess
import sys
import time

import helpers


def run(cmd, out_root):
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=400)
    print("$ %s  (%.0f s, status %d)" % (" ".join(cmd), time.monotonic() - t0, p.returncode))
    if p.returncode != 0:
        print(p.stdout)
        sys.exit("failed: %s" % " ".join(cmd))
    with open(os.path.join(out_root, "stdout.txt"), "w") as f:  # the terminal table, for test_report
        f.write(p.stdout)
    dirs = sorted(d for d in os.listdir(out_root) if os.path.isdir(os.path.join(out_root, d)))
    return os.path.join(out_root, dirs[-1])


def main():
    dvs_bin = helpers.env_path("DVS_BIN")
    root = os.environ["DVS_PY_TEST_RUNS"]
    src = os.environ.get("DVS_SOURCE_DIR") or os.path.abspath(os.path.join(helpers.HERE, "..", ".."))
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    out = {}
    d = os.path.join(root, "bench")
    os.makedirs(d)
    out["bench"] = run([dvs_bin, "bench", os.path.join(src, "harness", "scenarios", "quick.toml"), "--quick",
                        "--out", d], d)
    local = [dvs_bin, "run", "--quick", "--no-remote", "--repeat", "2", "--only", "sendrec,notify,pipe,shm,vcopy"]
    for name in ("run_a", "run_b"):
        d = os.path.join(root, name)
        os.makedirs(d)
        out[name] = run(local + ["--out", d], d)
    d = os.path.join(root, "remote")
    os.makedirs(d)
    out["remote"] = run([dvs_bin, "run", "--quick", "--remote-only", "--remote-net", "loopback", "--out", d], d)
    with open(os.path.join(root, "runs.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
