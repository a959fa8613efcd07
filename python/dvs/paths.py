"""Where the dvs binaries and the results are (pure Python).

Binaries: $DVS_BIN / $DVSD_BIN if set, else the build trees beside this source tree (build-*/
too, newest first), else an installed layout (<prefix>/share/dvs/python -> <prefix>/bin), else
$PATH.
"""

import glob
import os
import shutil

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # python/ (or share/dvs/python)
SOURCE_DIR = os.path.dirname(PYTHON_DIR)  # the repository (if this is a source tree)


def _is_exe(p):
    return p and os.path.isfile(p) and os.access(p, os.X_OK)


def _candidates(rel):
    env_src = os.environ.get("DVS_SOURCE_DIR")
    roots = [r for r in (env_src, SOURCE_DIR) if r]
    out = []
    for root in roots:
        builds = [os.path.join(root, "build")] + sorted(
            glob.glob(os.path.join(root, "build-*")), key=lambda p: -os.path.getmtime(p))
        # sanitized builds are slow and need their runtime: last resort
        builds.sort(key=lambda p: ("san" in os.path.basename(p)))
        out += [os.path.join(b, rel) for b in builds]
    # installed: PYTHON_DIR = <prefix>/share/dvs/python -> <prefix>/bin
    prefix = os.path.dirname(os.path.dirname(os.path.dirname(PYTHON_DIR)))
    out.append(os.path.join(prefix, "bin", os.path.basename(rel)))
    return out


def find_binary(name, env=None):
    """Path of `dvs` or `dvsd` (name), or None."""
    env = env or {"dvs": "DVS_BIN", "dvsd": "DVSD_BIN"}.get(name)
    if env and _is_exe(os.environ.get(env)):
        return os.environ[env]
    rel = {"dvs": "bin/dvs", "dvsd": "bin/dvsd"}.get(name, name)
    for c in _candidates(rel):
        if _is_exe(c):
            return os.path.abspath(c)
    return shutil.which(name)


def dvs_bin():
    p = find_binary("dvs")
    if not p:
        raise FileNotFoundError("no dvs binary: set DVS_BIN or build the dvs_cli target")
    return p


def dvsd_bin():
    p = find_binary("dvsd")
    if not p:
        raise FileNotFoundError("no dvsd binary: set DVSD_BIN or build the dvsd target")
    return p


def results_dir():
    """$DVS_RESULTS_DIR, else <source>/results."""
    return os.environ.get("DVS_RESULTS_DIR") or os.path.join(os.environ.get("DVS_SOURCE_DIR") or SOURCE_DIR, "results")
