"""The figures' transport order and labels come from the registry (`dvs transports --json`), not
from a list in Python: a scheme only a test registers ("tcpx") is ordered and labelled as the
registry says; without a dvs binary (old results read elsewhere) local comes first and the rest in
the order the rows show them. ctest: dvs_py_figures_transports_test (no runs needed)."""

import os
import unittest

import helpers  # noqa: F401  (sys.path)
from dvs_analysis import figures


class TransportOrderTest(unittest.TestCase):
    def test_registry_order_and_labels_with_a_test_scheme(self):
        registered = (("tcp", "TCP"), ("tcpx", "TCP, test scheme"), ("shm", "shared memory"))
        ranks = figures.transport_ranks(["shm", "udpz", "tcpx", "local", "tcp"], registered)
        order = sorted(ranks, key=lambda t: ranks[t][0])
        self.assertEqual(order, ["local", "tcp", "tcpx", "shm", "udpz"])
        self.assertEqual(ranks["tcpx"][1], "TCP, test scheme")
        self.assertEqual(ranks["udpz"][1], "udpz")  # unregistered: its scheme

    def test_without_a_binary_rows_decide(self):
        ranks = figures.transport_ranks(["rdma", "tcp", "rdma", "local"], ())
        self.assertEqual(sorted(ranks, key=lambda t: ranks[t][0]), ["local", "rdma", "tcp"])
        self.assertIsNone(figures.registered_transports("/nonexistent/dvs"))

    def test_the_binary_lists_the_built_in_transports(self):
        dvs_bin = os.environ.get("DVS_BIN")
        if not dvs_bin:
            self.skipTest("DVS_BIN is not set (ctest sets it to the built dvs)")
        reg = figures.registered_transports(dvs_bin)
        self.assertIsNotNone(reg)
        schemes = [s for s, _ in reg]
        self.assertEqual(schemes[0], "tcp")
        self.assertTrue({"tcp", "shm"} <= set(schemes))
        self.assertNotIn("local", schemes)


if __name__ == "__main__":
    unittest.main()
