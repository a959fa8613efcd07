"""Every dvs primitive from Python against the C++ echo server on a real dvsd (ctest: dvs_py_ipc_test).

This process binds system slot 7 of DC 0 (system: vcopy and rcvrqst need it); the server binds slot 5.
"""

import os
import subprocess
import sys
import threading
import time
import unittest

import helpers  # noqa: F401  (sets sys.path)
from helpers import (OP_ADDR, OP_CALL_ME, OP_CHECKSUM, OP_ECHO, OP_FILL, OP_GETLAST, OP_NOTIFY_ME, OP_PULL,
                     OP_PUSH, OP_SEND, OP_SEND_ME, EchoServer, fnv1a, pattern)

import dvs

ME = 7


def wait_flag(p_nr, flag, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if flag in dvs.getprocinfo(0, p_nr)["flags"]:
            return True
        time.sleep(0.005)
    return False


class IpcTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = dvs.Dvsd(node=0).start()
        cls.server = EchoServer(cls.node.socket, slot=5)
        cls.srv = cls.server.endpoint
        dvs.open(cls.node.socket)
        cls.me = dvs.bind(0, ME)
        dvs.set_wait(dvs.WAIT_BLOCK)

    @classmethod
    def tearDownClass(cls):
        try:
            dvs.close()
        finally:
            rc = cls.server.stop()
            cls.node.stop()
        assert rc == 0, "echo server exit status %s" % rc

    # ---- binding and identity
    def test_identity(self):
        self.assertTrue(dvs.HAVE_IPC)
        self.assertEqual(dvs.self(), self.me)
        self.assertEqual(dvs.endpoint_p(self.me), ME)
        self.assertEqual(dvs.nodeid(), 0)
        self.assertEqual(dvs.getep(os.getpid()), self.me)
        self.assertEqual(dvs.getep(self.server.pid), self.srv)
        self.assertEqual(dvs.wait4bindep(0, self.srv, 1000), self.srv)

    def test_bind_twice_raises_busy(self):
        with self.assertRaises(dvs.DvsError) as cm:
            dvs.bind(0, 8)
        self.assertEqual(cm.exception.code, dvs.EDVSBUSY)
        self.assertEqual(cm.exception.name, "EDVSBUSY")
        self.assertEqual(cm.exception.call, "bind")
        self.assertIn("EDVSBUSY", str(cm.exception))

    def test_error_table(self):
        self.assertEqual(dvs.errname(-61), "EDVSTIMEDOUT")
        self.assertEqual(dvs.EDVSTIMEDOUT, -61)
        self.assertEqual(dvs.error_names[-324], "EDVSPROCSTS")
        self.assertTrue(dvs.strerror(-61))
        e = dvs.DvsError(-337, "x")
        self.assertEqual((e.code, e.name, e.call), (-337, "EDVSSLOTUSED", "x"))

    # ---- messages
    def test_message_fields(self):
        m = dvs.Message(5, m1i1=1, m1i2=-2, m1p1=2**63 + 5)
        self.assertEqual((m.m_type, m.m1i1, m.m1i2, m.m1p1), (5, 1, -2, 2**63 + 5))
        m.payload = b"abc"
        self.assertEqual(m.payload[:4], b"abc\0")
        self.assertEqual(len(m.payload), dvs.MSG_PAYLOAD)
        self.assertEqual(len(m.to_bytes()), dvs.MSG_SIZE)
        self.assertEqual(dvs.Message.from_bytes(m.to_bytes()), m)
        m.m3ca1 = b"name"
        self.assertEqual(m.m3ca1, b"name")
        with self.assertRaises(ValueError):
            m.payload = b"x" * 57

    # ---- sendrec / reply (server side: rcvrqst + reply)
    def test_sendrec_echo(self):
        m = dvs.Message(OP_ECHO, m1i1=41)
        r = dvs.sendrec(self.srv, m)
        self.assertIs(r, m)  # the reply lands in the same buffer
        self.assertEqual(m.m_type, OP_ECHO + 1000)
        self.assertEqual(m.m1i1, 42)
        self.assertEqual(m.m_source, self.srv)

    def test_payload_roundtrip(self):
        data = bytes(range(1, 57))
        m = dvs.Message(OP_ECHO)
        m.payload = data
        m.m1i1 = int.from_bytes(data[:4], "little", signed=True)  # the echo increments m1i1
        dvs.sendrec(self.srv, m, timeout=5000)
        self.assertEqual(m.payload[4:], data[4:])

    def test_many_roundtrips(self):
        m = dvs.Message(OP_ECHO)
        n = 2000
        t0 = time.perf_counter()
        for i in range(n):
            m.m_type, m.m1i1 = OP_ECHO, i
            dvs.sendrec(self.srv, m)
            self.assertEqual(m.m1i1, i + 1)
        dt = time.perf_counter() - t0
        print("\n%d sendrec round trips from Python: %.1f us each" % (n, dt / n * 1e6), file=sys.stderr)

    # ---- send (server receives with rcvrqst, no reply)
    def test_send(self):
        m = dvs.Message(OP_SEND)
        m.payload = b"hello from python"
        dvs.send(self.srv, m, timeout=5000)
        r = dvs.sendrec(self.srv, dvs.Message(OP_GETLAST))
        self.assertEqual(r.m_type, OP_SEND)
        self.assertTrue(r.payload.startswith(b"hello from python"))

    # ---- receive (the server sends after replying)
    def test_receive(self):
        dvs.sendrec(self.srv, dvs.Message(OP_SEND_ME, m1i1=5))
        m = dvs.receive(self.srv, timeout=5000)
        self.assertEqual(m.m_type, OP_SEND_ME + 2000)
        self.assertEqual(m.m1i1, 15)
        self.assertEqual(m.m_source, self.srv)

    def test_receive_into_message(self):
        dvs.sendrec(self.srv, dvs.Message(OP_SEND_ME, m1i1=2))
        into = dvs.Message()
        got = dvs.receive(dvs.ANY, into, timeout=5000)
        self.assertEqual(into.m1i1, 6)
        self.assertEqual(got, into)

    # ---- notify
    def test_notify_from_server(self):
        dvs.sendrec(self.srv, dvs.Message(OP_NOTIFY_ME))
        m = dvs.receive(self.srv, timeout=5000)
        self.assertTrue(dvs.is_notify(m.m_type))
        self.assertEqual(m.m_type, dvs.notify_from(dvs.endpoint_p(self.srv)))
        self.assertEqual(m.m_source, self.srv)

    def test_notify_to_server(self):
        dvs.notify(self.srv)  # the server skips notifications
        self.assertEqual(dvs.sendrec(self.srv, dvs.Message(OP_ECHO, m1i1=1)).m1i1, 2)

    # ---- rcvrqst / reply (Python as the server: the C++ server sendrecs us)
    def test_rcvrqst_reply(self):
        dvs.sendrec(self.srv, dvs.Message(OP_CALL_ME, m1i1=21))
        req = dvs.rcvrqst(timeout=5000)
        self.assertEqual(req.m_type, OP_CALL_ME + 2000)
        self.assertEqual(req.m1i1, 42)
        self.assertEqual(req.m_source, self.srv)
        dvs.reply(self.srv, dvs.Message(77, m1i1=43))
        last = dvs.sendrec(self.srv, dvs.Message(OP_GETLAST))
        self.assertEqual((last.m_type, last.m1i1), (77, 43))

    def test_reply_to_non_waiting_raises_procsts(self):
        # a bound thread that is in no call: reply fails at once (a receiving server would take it)
        bound, done = threading.Event(), threading.Event()
        eps = []

        def body():
            eps.append(dvs.tbind(0, 11))
            bound.set()
            done.wait(10)
            dvs.unbind(0, eps[0])

        t = threading.Thread(target=body)
        t.start()
        try:
            self.assertTrue(bound.wait(5))
            with self.assertRaises(dvs.DvsError) as cm:
                dvs.reply(eps[0], dvs.Message(1))
            self.assertEqual(cm.exception.code, dvs.EDVSPROCSTS)
        finally:
            done.set()
            t.join(10)

    def test_receive_timeout(self):
        t0 = time.monotonic()
        with self.assertRaises(dvs.DvsError) as cm:
            dvs.receive(dvs.ANY, timeout=50)
        self.assertEqual(cm.exception.code, dvs.EDVSTIMEDOUT)
        self.assertLess(time.monotonic() - t0, 5)

    def test_send_to_unbound_slot_fails(self):
        with self.assertRaises(dvs.DvsError) as cm:
            dvs.send(20, dvs.Message(1), timeout=100)
        self.assertLess(cm.exception.code, 0)
        self.assertTrue(cm.exception.name.startswith("EDVS"))

    # ---- vcopy, the server as requester (Python's buffer address in the message)
    def test_vcopy_pull_by_server(self):
        buf = bytearray(os.urandom(100_000))
        m = dvs.sendrec(self.srv, dvs.Message(OP_PULL, m1p1=dvs.address_of(buf), m1i1=len(buf)))
        self.assertEqual(m.m2i1, len(buf))
        self.assertEqual(m.m2l1, fnv1a(buf))

    def test_vcopy_push_by_server(self):
        buf = bytearray(50_000)
        m = dvs.sendrec(self.srv, dvs.Message(OP_PUSH, m1p1=dvs.address_of(buf), m1i1=len(buf), m1i2=3))
        self.assertEqual(m.m2i1, len(buf))
        self.assertEqual(bytes(buf), pattern(len(buf), 3))

    # ---- vcopy, Python as requester (the server blocked in rcvrqst is the other party)
    def test_vcopy_by_python(self):
        info = dvs.sendrec(self.srv, dvs.Message(OP_ADDR))
        addr, size = info.m1p1, info.m1i1
        self.assertGreaterEqual(size, 65536)
        data = os.urandom(65536)
        self.assertTrue(wait_flag(5, "RECEIVING"))
        self.assertEqual(dvs.vcopy(self.me, data, self.srv, addr), len(data))  # bytes: read-only src is fine
        m = dvs.sendrec(self.srv, dvs.Message(OP_CHECKSUM, m1i1=len(data)))
        self.assertEqual(m.m2l1, fnv1a(data))

        dvs.sendrec(self.srv, dvs.Message(OP_FILL, m1i1=4096, m1i2=9))
        self.assertTrue(wait_flag(5, "RECEIVING"))
        out = bytearray(4096)
        self.assertEqual(dvs.vcopy(self.srv, addr, self.me, out), 4096)
        self.assertEqual(bytes(out), pattern(4096, 9))
        # a memoryview slice as destination, explicit nbytes
        big = bytearray(8192)
        self.assertTrue(wait_flag(5, "RECEIVING"))
        self.assertEqual(dvs.vcopy(self.srv, addr, self.me, memoryview(big)[100:], 1000), 1000)
        self.assertEqual(bytes(big[100:1100]), pattern(1000, 9))
        self.assertEqual(bytes(big[:100]), b"\0" * 100)

    def test_vcopy_argument_errors(self):
        with self.assertRaises(TypeError):
            dvs.vcopy(self.srv, 0x1000, self.me, b"read-only")
        with self.assertRaises(ValueError):
            dvs.vcopy(self.srv, 0x1000, self.me, bytearray(10), 11)
        with self.assertRaises(ValueError):
            dvs.vcopy(self.srv, 0x1000, self.me, 0x2000)  # no buffer, no nbytes
        with self.assertRaises(TypeError):
            dvs.vcopy(self.srv, "nope", self.me, bytearray(10))

    def test_vcopy_from_running_party_fails(self):
        # the server must be blocked receiving; a bogus party is refused with a dvs error
        with self.assertRaises(dvs.DvsError):
            dvs.vcopy(dvs.endpoint(0, 30), 0x1000, self.me, bytearray(16))

    # ---- introspection and privileges
    def test_getprocinfo_getdcinfo(self):
        self.assertTrue(wait_flag(5, "RECEIVING"))
        p = dvs.getprocinfo(0, 5)
        self.assertEqual(p["p_endpoint"], self.srv)
        self.assertEqual(p["p_lpid"], self.server.pid)
        self.assertIn("RECEIVING", p["flags"])
        mine = dvs.getprocinfo(0, ME)
        self.assertEqual(mine["p_lpid"], os.getpid())
        self.assertEqual(mine["p_wait_mode"], dvs.WAIT_BLOCK)
        free = dvs.getprocinfo(0, 60)
        self.assertIn("FREE", free["flags"])
        dc = dvs.getdcinfo(0)
        self.assertEqual(dc["dcid"], 0)
        self.assertGreater(dc["nr_procs"], 0)
        self.assertIn(0, dc["node_list"])
        with self.assertRaises(dvs.DvsError) as cm:
            dvs.getdcinfo(9)
        self.assertEqual(cm.exception.code, dvs.EDVSBADDCID)

    def test_privileges(self):
        p = dvs.getpriv(0, self.me)
        self.assertEqual(p["level"], dvs.LEVEL_SERVER)
        self.assertEqual(len(p["ipc_to"]), 8)
        dvs.setpriv(0, self.me, p)
        self.assertEqual(dvs.getpriv(0, self.me), p)

    # ---- threads: thread endpoints, the GIL released while blocked, wakeup
    def test_thread_endpoint_and_wakeup(self):
        got = {}
        bound = threading.Event()

        def body():
            try:
                got["ep"] = dvs.tbind(0, 9)
                bound.set()
                dvs.receive(dvs.ANY, timeout=10000)
                got["result"] = "returned"
            except dvs.DvsError as e:
                got["result"] = e.code
            finally:
                bound.set()
                if "ep" in got:
                    dvs.unbind(0, got["ep"])

        t = threading.Thread(target=body)
        t.start()
        self.assertTrue(bound.wait(5))
        self.assertTrue(wait_flag(9, "RECEIVING"))  # runs while the thread blocks: the GIL is free
        dvs.wakeup(0, got["ep"])
        t.join(10)
        self.assertFalse(t.is_alive())
        self.assertEqual(got["result"], dvs.EDVSWOKENUP)

    def test_endpoint_class_in_thread(self):
        out = {}

        def body():
            with dvs.Endpoint(0, 10, socket=self.node.socket, thread=True, wait="spin-then-block") as ep:
                out["p_nr"] = ep.p_nr
                out["echo"] = ep.sendrec(self.srv, dvs.Message(OP_ECHO, m1i1=99)).m1i1
                out["mode"] = ep.procinfo()["p_wait_mode"]
            out["free"] = "FREE" in dvs.getprocinfo(0, 10)["flags"]

        t = threading.Thread(target=body)
        t.start()
        t.join(10)
        self.assertEqual(out, {"p_nr": 10, "echo": 100, "mode": dvs.WAIT_SPIN_THEN_BLOCK, "free": True})

    # ---- lclbind / wait4bind with a second Python process
    def test_lclbind_wait4bind(self):
        code = ("import dvs, sys; dvs.open(sys.argv[1]); ep = dvs.wait4bind(10000); "
                "m = dvs.sendrec(int(sys.argv[2]), dvs.Message(1, m1i1=ep)); print(ep, m.m1i1)")
        child = subprocess.Popen([sys.executable, "-c", code, self.node.socket, str(self.srv)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            ep = dvs.lclbind(0, child.pid, 12)
            out, err = child.communicate(timeout=20)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        self.assertEqual(child.returncode, 0, err)
        got_ep, echoed = map(int, out.split())
        self.assertEqual(got_ep, ep)
        self.assertEqual(dvs.endpoint_p(ep), 12)
        self.assertEqual(echoed, ep + 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
