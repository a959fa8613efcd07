"""Shared pieces of the Python tests: binaries from the environment ctest sets, the C++ echo
server (python/tests/echo_server.cpp) as a child process, FNV-1a and the fill pattern it uses."""

import os
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # python/ (dvs, dvs_analysis) when run by hand

# The echo server's operations (echo_server.cpp).
OP_ECHO, OP_SEND, OP_GETLAST, OP_PULL, OP_PUSH, OP_ADDR, OP_CHECKSUM, OP_FILL = 1, 2, 3, 4, 5, 6, 7, 8
OP_NOTIFY_ME, OP_SEND_ME, OP_CALL_ME, OP_QUIT = 9, 10, 11, 99


def env_path(name):
    p = os.environ.get(name)
    if not p or not os.path.exists(p):
        raise RuntimeError("%s is not set to an existing path (ctest sets it; see python/CMakeLists.txt)" % name)
    return p


def fnv1a(data):
    h = 1469598103934665603
    for b in bytes(data):
        h ^= b
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h - (1 << 64) if h >= (1 << 63) else h  # as the int64 the server puts in m2l1


def pattern(n, seed):
    return bytes(((i * 7 + seed) & 0xFF) for i in range(n))


class EchoServer:
    """The C++ echo server bound to (dc, slot) on the dvsd at socket."""

    def __init__(self, socket, slot=5, dc=0, wait="block", timeout=10.0):
        self.proc = subprocess.Popen([env_path("DVS_ECHO_SERVER"), "--socket", socket, "--dc", str(dc),
                                      "--slot", str(slot), "--wait", wait],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            r, _, _ = select.select([self.proc.stdout], [], [], max(left, 0))
            if not r:
                self.stop()
                raise RuntimeError("echo server not ready in %.0f s" % timeout)
            c = os.read(self.proc.stdout.fileno(), 1)
            if not c:
                err = self.proc.stderr.read().decode(errors="replace")
                self.stop()
                raise RuntimeError("echo server exited: %s" % err)
            line += c
        word, ep = line.decode().split()
        assert word == "ready", line
        self.endpoint = int(ep)
        self.pid = self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()  # its watcher thread exits the process
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()
        return self.proc.returncode
