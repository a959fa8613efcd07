"""dvs from Python: the M3-IPC primitives (binding of libdvs), local nodes and clusters, results.

    import dvs
    with dvs.Dvsd() as node:                       # a private dvsd (dvs.cluster)
        dvs.open(node.socket)
        me = dvs.bind(0, 7)                        # DC 0, system slot 7
        m = dvs.Message(1, m1i1=41)
        dvs.sendrec(server_ep, m)                  # the reply lands in m
    run = dvs.results.load_run("results/runs/<run-id>")   # pandas DataFrames

The IPC functions come from the compiled extension `_dvs` (python/src/dvs_module.cpp): they are
importable only where it was built (build/python on PYTHONPATH). `dvs.results` and `dvs.cluster`
are pure Python and work without it. Errors raise dvs.DvsError (.code, .name, .call).
See docs/PYTHON.md.
"""

from . import cluster, paths, results  # noqa: F401  (pure Python)

try:
    from _dvs import *  # noqa: F401,F403
    from _dvs import DvsError, error_names  # noqa: F401
    import _dvs as _ext

    HAVE_IPC = True
    _IMPORT_ERROR = None
except ImportError as e:  # the analysis side works without the compiled module
    HAVE_IPC = False
    _IMPORT_ERROR = e
    _ext = None

from .cluster import Cluster, Dvsd  # noqa: E402,F401


def __getattr__(name):
    # An IPC name asked for while the extension is missing: say why instead of AttributeError.
    if not HAVE_IPC and not name.startswith("__"):
        raise ImportError(
            "dvs.%s needs the compiled module _dvs (build the dvs_python target and put "
            "<build>/python on PYTHONPATH): %s" % (name, _IMPORT_ERROR))
    raise AttributeError("module 'dvs' has no attribute %r" % name)


WAITS = {"spin": 0, "spin-then-block": 1, "block": 2}


class Endpoint:
    """A bound endpoint of this process (or of the calling thread, thread=True); unbinds on
    close() / leaving a `with` block. The IPC methods are the module functions: libdvs acts as
    the calling thread's effective endpoint, so use a thread endpoint from the thread that bound it.

        with dvs.Endpoint(0, 7, socket=node.socket, wait="block") as ep:
            reply = ep.sendrec(server, dvs.Message(1))
    """

    def __init__(self, dcid, p_nr, socket=None, thread=False, wait=None, spin_ns=None):
        if not HAVE_IPC:
            __getattr__("Endpoint")
        _ext.open(socket)
        self.dcid = dcid
        self.endpoint = _ext.tbind(dcid, p_nr) if thread else _ext.bind(dcid, p_nr)
        self._bound = True
        if wait is not None:
            self.set_wait(wait, spin_ns)

    @property
    def p_nr(self):
        return _ext.endpoint_p(self.endpoint)

    def set_wait(self, wait, spin_ns=None):
        # spin_ns None: libdvs's default spin budget (DVS_DEFAULT_SPIN_NS).
        mode = WAITS[wait] if isinstance(wait, str) else int(wait)
        return _ext.set_wait(mode, _ext.DEFAULT_SPIN_NS if spin_ns is None else spin_ns)

    def send(self, dst, msg, timeout=None):
        return _ext.send(dst, msg, timeout)

    def receive(self, src=None, msg=None, timeout=None):
        return _ext.receive(_ext.ANY if src is None else src, msg, timeout)

    def sendrec(self, dst, msg, timeout=None):
        return _ext.sendrec(dst, msg, timeout)

    def notify(self, dst):
        return _ext.notify(dst)

    def rcvrqst(self, msg=None, timeout=None):
        return _ext.rcvrqst(msg, timeout)

    def reply(self, dst, msg, timeout=None):
        return _ext.reply(dst, msg, timeout)

    def vcopy(self, src_ep, src, dst_ep, dst, nbytes=None):
        return _ext.vcopy(src_ep, src, dst_ep, dst, nbytes)

    def procinfo(self):
        return _ext.getprocinfo(self.dcid, self.p_nr)

    def close(self):
        if self._bound:
            self._bound = False
            try:
                _ext.unbind(self.dcid, self.endpoint)
            except DvsError:  # already gone (dvsd stopped, or unbound by hand)
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return "Endpoint(dc=%d, endpoint=%d%s)" % (self.dcid, self.endpoint, "" if self._bound else ", unbound")
