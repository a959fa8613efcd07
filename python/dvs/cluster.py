"""Start and stop dvs nodes from Python (pure Python: subprocesses of dvsd and `dvs cluster`).

    with Dvsd() as node:                     # one private dvsd on a temporary socket
        ...node.socket...

    with Cluster("harness/clusters/two-node.toml") as c:   # `dvs cluster up FILE --state DIR`
        c.socket(1)                          # node 1's UNIX socket
        c.status()                           # `dvs cluster status` (True if healthy)
"""

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from . import paths


class DvsdError(RuntimeError):
    pass


def make_cluster_key(path):
    """Writes a fresh cluster key (64 hex digits, mode 0600) to path, which must not exist yet."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    return path


class Dvsd:
    """One dvsd process: `dvsd --node N --socket S [--dc SPEC]... [--listen URI] [--peer ID=URI]...`.

    socket=None puts the socket in a fresh temporary directory (removed by stop()). start() waits
    (at most ready_timeout s) for dvsd's "dvsd: node N ready on PATH" line; its later stdout and
    its stderr go to `log` (a file in the temporary directory unless given). A node with links needs
    the cluster key every node of the cluster holds (`cluster_key`, a file from make_cluster_key),
    or extra_args=["--no-auth"].
    """

    def __init__(self, node=0, socket=None, dcs=(), listen=None, peers=(), extra_args=(), binary=None,
                 log=None, ready_timeout=10.0, cluster_key=None):
        self.node = node
        self.binary = binary or paths.dvsd_bin()
        self._tmp = None
        if socket is None:
            self._tmp = tempfile.mkdtemp(prefix="dvs-py-")
            socket = os.path.join(self._tmp, "n%d.sock" % node)
        self.socket = socket
        self.log = log or os.path.join(self._tmp or os.path.dirname(socket), "dvsd-n%d.log" % node)
        self.args = [self.binary, "--node", str(node), "--socket", socket]
        for spec in dcs:
            self.args += ["--dc", str(spec)]
        if listen:
            self.args += ["--listen", listen]
        for p in peers:
            self.args += ["--peer", str(p)]
        if cluster_key:
            self.args += ["--cluster-key", cluster_key]
        self.args += [str(a) for a in extra_args]
        self.ready_timeout = ready_timeout
        self.proc = None
        self.listen_uri = None
        self._drain = None

    def start(self):
        if self.proc is not None:
            raise DvsdError("dvsd already started")
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=logf, stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.monotonic() + self.ready_timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise DvsdError("dvsd not ready within %.1f s: %s" % (self.ready_timeout, " ".join(self.args)))
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                rc = self.proc.wait()
                self.proc = None
                raise DvsdError("dvsd exited (status %s) before it was ready: %s" % (rc, self._log_tail()))
            buf += chunk
            text = buf.decode(errors="replace")
            for line in text.splitlines():
                if line.startswith("dvsd: listening on "):
                    self.listen_uri = line.split("listening on ", 1)[1].strip()
                elif " listening on " in line:
                    self.listen_uri = line.split(" listening on ", 1)[1].strip()
            if " ready on " in text:
                break
        with open(self.log, "ab") as f:
            f.write(buf)
        # Keep reading its stdout so dvsd never blocks on a full pipe.
        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain.start()
        return self

    def _drain_stdout(self):
        proc = self.proc
        if proc is None:
            return
        try:
            with open(self.log, "ab") as f:
                for line in proc.stdout:
                    f.write(line)
                    f.flush()
        except (OSError, ValueError):
            pass

    def _log_tail(self, n=2000):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-n:].decode(errors="replace").strip()
        except OSError:
            return ""

    def wait_log(self, text, timeout=10.0):
        """Wait until dvsd's output contains text (e.g. "link to node 1 up"); True if it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.log, "rb") as f:
                    if text.encode() in f.read():
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace=5.0):
        """SIGTERM, wait up to grace s, then SIGKILL. Returns the exit status (None if not running)."""
        rc = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(grace)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            rc = self.proc.returncode
            if self._drain:
                self._drain.join(2)
            if self.proc.stdout:
                self.proc.stdout.close()
            self.proc = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


class Cluster:
    """A multi-node cluster on this machine through `dvs cluster up FILE --state DIR` (docs/CLUSTERS.md).

    file=None: dvs's embedded two-node cluster. state=None: a fresh temporary directory (removed
    by down()). netns=True runs each node in its own network namespace (root only).
    """

    def __init__(self, file=None, state=None, netns=False, dvs=None, dvsd=None, timeout=20):
        self.file = file
        self.dvs = dvs or paths.dvs_bin()
        self.dvsd = dvsd or paths.find_binary("dvsd")
        self._tmp = None
        if state is None:
            self._tmp = tempfile.mkdtemp(prefix="dvs-py-cluster-")
            state = self._tmp
        self.state = state
        self.netns = netns
        self.timeout = timeout
        self.up_output = ""
        self._up = False

    def _run(self, args, check=True, timeout=None):
        env = dict(os.environ)
        if self.dvsd:
            env["DVSD_BIN"] = self.dvsd
        p = subprocess.run([self.dvs] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=env, timeout=timeout or self.timeout + 30)
        if check and p.returncode != 0:
            raise DvsdError("dvs %s failed (status %d): %s" % (" ".join(args), p.returncode, p.stdout.strip()))
        return p

    def up(self):
        args = ["cluster", "up"] + ([self.file] if self.file else []) + ["--state", self.state,
                                                                       "--timeout", str(self.timeout)]
        if self.netns:
            args.append("--netns")
        self._up = True  # a partial up is recorded in the state dir: down() removes it
        self.up_output = self._run(args).stdout
        return self

    def down(self):
        p = None
        if self._up:
            p = self._run(["cluster", "down", "--state", self.state], check=False)
            self._up = False
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        return p.returncode if p else None

    def status(self):
        """True if every node runs and every link is up (`dvs cluster status`, exit 0)."""
        return self._run(["cluster", "status", "--state", self.state], check=False).returncode == 0

    def status_text(self):
        return self._run(["cluster", "status", "--state", self.state], check=False).stdout

    def record(self):
        """cluster.json: what `up` made (nodes, pids, sockets, listen URIs, ...)."""
        with open(os.path.join(self.state, "cluster.json")) as f:
            return json.load(f)

    def nodes(self):
        rec = self.record()
        return sorted(int(n["id"]) for n in rec.get("nodes", []))

    def socket(self, node):
        """The UNIX socket of node `node` (what dvs.open() takes)."""
        for n in self.record().get("nodes", []):
            if int(n.get("id", -1)) == node and n.get("socket"):
                return n["socket"]
        return os.path.join(self.state, "n%d.sock" % node)

    def __enter__(self):
        try:
            return self.up()
        except Exception:
            self.down()
            raise

    def __exit__(self, *exc):
        self.down()
        return False
