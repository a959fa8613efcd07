"""A two-node cluster from Python (`dvs cluster up` through dvs.Cluster, and two dvs.Dvsd linked
by hand), the C++ echo server on node 1, this process on node 0: remote IPC driven from Python
(ctest: dvs_py_cluster_test). One dvs.open() per process, so each case runs in a child python."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

import helpers
from helpers import EchoServer

import dvs

CLUSTER_FILE = os.path.join(os.environ.get("DVS_SOURCE_DIR", os.path.join(helpers.HERE, "..", "..")),
                            "harness", "clusters", "two-node.toml")

# Runs in a child python on node 0: rmtbind the server, every remote primitive, vcopy both ways.
CLIENT = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, %(tests)r)
    import dvs
    from helpers import OP_ECHO, OP_PULL, OP_PUSH, OP_SEND, OP_GETLAST, OP_NOTIFY_ME, fnv1a, pattern
    sock, srv = sys.argv[1], int(sys.argv[2])
    dvs.open(sock)
    assert dvs.nodeid() == 0
    me = dvs.bind(0, 7)
    dvs.rmtbind(0, srv, 1)
    info = dvs.getprocinfo(0, dvs.endpoint_p(srv))
    assert "REMOTE" in info["flags"] and info["p_nodeid"] == 1, info
    assert dvs.getdcinfo(0)["node_list"] == [0, 1]
    m = dvs.sendrec(srv, dvs.Message(OP_ECHO, m1i1=1), timeout=10000)
    assert (m.m_type, m.m1i1, m.m_source) == (OP_ECHO + 1000, 2, srv), m
    s = dvs.Message(OP_SEND); s.payload = b"across nodes"
    dvs.send(srv, s, timeout=10000)
    assert dvs.sendrec(srv, dvs.Message(OP_GETLAST), timeout=10000).payload.startswith(b"across nodes")
    dvs.sendrec(srv, dvs.Message(OP_NOTIFY_ME), timeout=10000)
    n = dvs.receive(srv, timeout=10000)
    assert dvs.is_notify(n.m_type), n
    buf = bytearray(os.urandom(300000))
    r = dvs.sendrec(srv, dvs.Message(OP_PULL, m1p1=dvs.address_of(buf), m1i1=len(buf)), timeout=10000)
    assert (r.m2i1, r.m2l1) == (len(buf), fnv1a(buf)), (r.m2i1, r.m2l1)
    out = bytearray(70000)
    r = dvs.sendrec(srv, dvs.Message(OP_PUSH, m1p1=dvs.address_of(out), m1i1=len(out), m1i2=5), timeout=10000)
    assert r.m2i1 == len(out) and bytes(out) == pattern(len(out), 5), r.m2i1
    for i in range(200):
        assert dvs.sendrec(srv, dvs.Message(OP_ECHO, m1i1=i), timeout=10000).m1i1 == i + 1
    # the DC stops spanning node 1: calls to its endpoints fail with EDVSNODCNODE, then it comes back
    dvs.del_node(0, 1)
    try:
        dvs.sendrec(srv, dvs.Message(OP_ECHO), timeout=5000)
        raise SystemExit("sendrec after del_node succeeded")
    except dvs.DvsError as e:
        assert e.code in (dvs.EDVSNODCNODE, dvs.EDVSNOTCONN, dvs.EDVSBADSRCDST, dvs.EDVSDSTDIED), e
    dvs.add_node(0, 1)
    dvs.rmtbind(0, srv, 1)
    assert dvs.sendrec(srv, dvs.Message(OP_ECHO, m1i1=7), timeout=10000).m1i1 == 8
    print("ok")
""") % {"tests": helpers.HERE}


def run_client(socket, server_ep):
    env = dict(os.environ)
    p = subprocess.run([sys.executable, "-c", CLIENT, socket, str(server_ep)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120, env=env)
    return p


class ClusterTest(unittest.TestCase):
    def check_remote(self, sock0, sock1):
        server = EchoServer(sock1, slot=5)
        try:
            p = run_client(sock0, server.endpoint)
        finally:
            server.stop()
        self.assertEqual(p.returncode, 0, "client failed:\n%s\n%s" % (p.stdout, p.stderr))
        self.assertEqual(p.stdout.strip(), "ok")

    def test_dvs_cluster_up(self):
        with dvs.Cluster(CLUSTER_FILE) as c:
            self.assertTrue(c.status(), c.status_text())
            self.assertEqual(c.nodes(), [0, 1])
            for n in (0, 1):
                self.assertTrue(os.path.exists(c.socket(n)), c.socket(n))
            self.check_remote(c.socket(0), c.socket(1))
            state = c.state
        self.assertFalse(os.path.exists(state))  # down() removed the temporary state dir

    def test_two_dvsd_by_hand(self):
        keydir = tempfile.mkdtemp(prefix="dvs-py-key-")
        self.addCleanup(shutil.rmtree, keydir)
        key = dvs.cluster.make_cluster_key(os.path.join(keydir, "cluster.key"))
        with dvs.Dvsd(node=1, listen="tcp://127.0.0.1:0", peers=["0"], cluster_key=key) as n1:
            self.assertTrue(n1.listen_uri and n1.listen_uri.startswith("tcp://127.0.0.1:"), n1.listen_uri)
            with dvs.Dvsd(node=0, peers=["1=" + n1.listen_uri], cluster_key=key) as n0:
                self.assertTrue(n0.running() and n1.running())
                self.assertTrue(n0.wait_log("link to node 1 up"), n0._log_tail())
                self.check_remote(n0.socket, n1.socket)
            self.assertFalse(n0.running())


if __name__ == "__main__":
    unittest.main(verbosity=2)
