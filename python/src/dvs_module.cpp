// _dvs: the Python binding of libdvs (core/include/dvs/dvs.h). The `dvs` package
// (python/dvs/__init__.py) re-exports it; docs/PYTHON.md documents it.
//
// Conventions:
//  * every call mirrors the C function of the same name without the dvs_ prefix; timeouts are in
//    milliseconds (None or -1: forever, 0: never block);
//  * a negative return code raises dvs.DvsError (code, name, strerror); successful calls return
//    their value (an endpoint, the bytes copied, a Message, ...);
//  * calls that can block (receive, send, sendrec, rcvrqst, reply, vcopy, wait4bind, ...) release
//    the GIL, so other Python threads run meanwhile (and can dvs.wakeup() a blocked one);
//  * vcopy takes, for each side, either an int (an address in the other party's process) or a
//    Python object with the buffer protocol (bytes / bytearray / memoryview / numpy array of this
//    process; the destination must be writable).
#include <pybind11/eval.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "dvs/dvs.h"

namespace py = pybind11;

namespace {

// dvs.DvsError, created at module init (a Python class, so `except dvs.DvsError as e` works and
// e.code / e.name are plain attributes).
py::object* g_error_type = nullptr;

[[noreturn]] void raise_dvs(int rc, const char* call) {
  py::object err = (*g_error_type)(rc, std::string(call));
  PyErr_SetObject(g_error_type->ptr(), err.ptr());
  throw py::error_already_set();
}

// Returns rc if >= 0, else raises.
long check(long rc, const char* call) {
  if (rc < 0) raise_dvs(static_cast<int>(rc), call);
  return rc;
}

// Runs f with the GIL released (a blocking dvs call: other Python threads run meanwhile).
template <typename F>
auto without_gil(F&& f) {
  py::gil_scoped_release nogil;
  return f();
}

long timeout_ms(const std::optional<long>& t) { return t ? *t : DVS_TIMEOUT_FOREVER; }

// A Python-visible message: one dvs_message_t by value.
struct PyMessage {
  dvs_message_t m{};
};

// Payload accessors for the mess_N layouts of message.h. offsetof into the union keeps them
// honest if message.h changes.
template <typename T>
void def_field(py::class_<PyMessage>& c, const char* name, size_t offset) {
  c.def_property(
      name,
      [offset](const PyMessage& pm) {
        T v;
        std::memcpy(&v, reinterpret_cast<const char*>(&pm.m.m_u) + offset, sizeof v);
        return v;
      },
      [offset](PyMessage& pm, T v) { std::memcpy(reinterpret_cast<char*>(&pm.m.m_u) + offset, &v, sizeof v); });
}

#define DVS_FIELD(c, T, mess, field) \
  def_field<T>(c, #field, offsetof(dvs_message_t, m_u.mess.field) - offsetof(dvs_message_t, m_u))

// One side of a vcopy: an address in another process or a buffer of this one.
struct CopySide {
  uintptr_t addr = 0;
  size_t len = 0;  // buffer length; 0 for a plain address (unknown)
  bool is_buffer = false;
  std::optional<py::buffer_info> info;  // keeps the export (and the memory) alive during the call
};

CopySide copy_side(const py::object& o, bool writable, const char* which) {
  CopySide s;
  if (py::isinstance<py::int_>(o)) {
    s.addr = o.cast<uintptr_t>();
    return s;
  }
  if (!PyObject_CheckBuffer(o.ptr()))
    throw py::type_error(std::string("vcopy: ") + which + " must be an int address or a buffer (bytes, bytearray, memoryview, ...)");
  py::buffer b = py::reinterpret_borrow<py::buffer>(o);
  // Ask for a read-only view and check the flag ourselves: a TypeError naming the side, not
  // CPython's BufferError.
  s.info.emplace(b.request(false));
  if (writable && s.info->readonly) throw py::type_error(std::string("vcopy: ") + which + " buffer is read-only");
  // Only C-contiguous buffers: the copy is one byte range.
  Py_buffer* view = s.info->view();
  if (view != nullptr && !PyBuffer_IsContiguous(view, 'C'))
    throw py::value_error(std::string("vcopy: ") + which + " buffer is not contiguous");
  s.addr = reinterpret_cast<uintptr_t>(s.info->ptr);
  s.len = static_cast<size_t>(s.info->size * s.info->itemsize);
  s.is_buffer = true;
  return s;
}

long py_vcopy(int src_ep, const py::object& src, int dst_ep, const py::object& dst, std::optional<size_t> nbytes) {
  CopySide s = copy_side(src, false, "src");
  CopySide d = copy_side(dst, true, "dst");
  size_t n = 0;
  if (nbytes) {
    n = *nbytes;
  } else if (s.is_buffer && d.is_buffer) {
    n = std::min(s.len, d.len);
  } else if (s.is_buffer) {
    n = s.len;
  } else if (d.is_buffer) {
    n = d.len;
  } else {
    throw py::value_error("vcopy: nbytes is required when neither side is a buffer");
  }
  if (s.is_buffer && n > s.len) throw py::value_error("vcopy: nbytes exceeds the src buffer");
  if (d.is_buffer && n > d.len) throw py::value_error("vcopy: nbytes exceeds the dst buffer");
  const long rc = without_gil([&] { return dvs_vcopy(src_ep, reinterpret_cast<const void*>(s.addr), dst_ep, reinterpret_cast<void*>(d.addr), n); });
  return check(rc, "vcopy");
}

uintptr_t address_of(const py::buffer& b) {
  py::buffer_info info = b.request();
  Py_buffer* view = info.view();
  if (view != nullptr && !PyBuffer_IsContiguous(view, 'C')) throw py::value_error("address_of: buffer is not contiguous");
  return reinterpret_cast<uintptr_t>(info.ptr);
}

// Blocking message calls: release the GIL, fill a Message, raise on error.
template <typename F>
PyMessage& msg_call(PyMessage& pm, const char* name, F&& f) {
  const long rc = without_gil([&] { return f(&pm.m); });
  check(rc, name);
  return pm;
}

py::dict procinfo_dict(const dvs_procinfo_t& p) {
  py::dict d;
  d["p_nr"] = p.p_nr;
  d["p_endpoint"] = p.p_endpoint;
  d["p_dcid"] = p.p_dcid;
  d["p_rts_flags"] = p.p_rts_flags;
  d["p_lpid"] = p.p_lpid;
  d["p_tid"] = p.p_tid;
  d["p_nodeid"] = p.p_nodeid;
  d["p_getfrom"] = p.p_getfrom;
  d["p_sendto"] = p.p_sendto;
  d["p_wait_mode"] = p.p_wait_mode;
  d["p_lclsent"] = p.p_lclsent;
  d["p_lclcopy"] = p.p_lclcopy;
  d["p_name"] = std::string(p.p_name, strnlen(p.p_name, sizeof p.p_name));
  py::list flags;
  if (p.p_rts_flags & DVS_SLOT_FREE) flags.append("FREE");
  if (p.p_rts_flags & DVS_SENDING) flags.append("SENDING");
  if (p.p_rts_flags & DVS_RECEIVING) flags.append("RECEIVING");
  if (p.p_rts_flags & DVS_ONCOPY) flags.append("ONCOPY");
  if (p.p_rts_flags & DVS_REMOTE) flags.append("REMOTE");
  d["flags"] = flags;
  return d;
}

py::dict dcinfo_dict(const dvs_dcinfo_t& i) {
  py::dict d;
  d["dcid"] = i.dcid;
  d["nr_procs"] = i.nr_procs;
  d["nr_tasks"] = i.nr_tasks;
  d["nr_sysprocs"] = i.nr_sysprocs;
  d["nr_nodes"] = i.nr_nodes;
  d["nodes"] = i.nodes;
  py::list node_list;
  for (int n = 0; n < DVS_NR_NODES; ++n)
    if (i.nodes & (1u << n)) node_list.append(n);
  d["node_list"] = node_list;
  d["max_copylen"] = i.max_copylen;
  d["name"] = std::string(i.name, strnlen(i.name, sizeof i.name));
  return d;
}

}  // namespace

PYBIND11_MODULE(_dvs, mod) {
  mod.doc() = "dvs: M3-IPC rendezvous IPC from Python (binding of libdvs, core/include/dvs/dvs.h)";

  // ---- the exception ----
  py::dict names;  // code -> name, every code libdvs knows
  for (int code = -999; code < 0; ++code) {
    const char* n = dvs_errname(code);
    if (std::strcmp(n, "EDVS?") != 0) {
      names[py::int_(code)] = n;
      mod.attr(n) = code;
    }
  }
  mod.attr("error_names") = names;
  py::dict ns;
  ns["__builtins__"] = py::module_::import("builtins");
  ns["_errname"] = py::cpp_function([](int c) { return std::string(dvs_errname(c)); });
  ns["_strerror"] = py::cpp_function([](int c) { return std::string(dvs_strerror(c)); });
  py::exec(R"(
class DvsError(Exception):
    """A dvs call failed: .code is the negative EDVS code, .name its name, .call the function."""
    def __init__(self, code, call=""):
        self.code = int(code)
        self.name = _errname(self.code)
        self.call = call
        self.description = _strerror(self.code)
        super().__init__("%s%s (%d): %s" % (call + ": " if call else "", self.name, self.code, self.description))
    def __reduce__(self):
        return (type(self), (self.code, self.call))
)",
           ns);
  // Leaked on purpose: a static py::object would be released after the interpreter is gone.
  g_error_type = new py::object(ns["DvsError"]);
  g_error_type->attr("__module__") = "dvs";
  mod.attr("DvsError") = *g_error_type;
  mod.def("errname", [](int c) { return std::string(dvs_errname(c)); }, py::arg("code"), "EDVS name of a code");
  mod.def("strerror", [](int c) { return std::string(dvs_strerror(c)); }, py::arg("code"), "description of a code");

  // ---- constants ----
  mod.attr("ANY") = DVS_ANY;
  mod.attr("NONE") = DVS_NONE;
  mod.attr("SELF") = DVS_SELF;
  mod.attr("TIMEOUT_NOWAIT") = DVS_TIMEOUT_NOWAIT;
  mod.attr("TIMEOUT_FOREVER") = DVS_TIMEOUT_FOREVER;
  mod.attr("NR_TASKS_MAX") = DVS_NR_TASKS_MAX;
  mod.attr("GEN_SIZE") = DVS_GEN_SIZE;
  mod.attr("NR_DCS") = DVS_NR_DCS;
  mod.attr("NR_NODES") = DVS_NR_NODES;
  mod.attr("MAX_SLOTS") = DVS_MAX_SLOTS;
  mod.attr("MSG_SIZE") = DVS_MSG_SIZE;
  mod.attr("MSG_PAYLOAD") = DVS_MSG_PAYLOAD;
  mod.attr("NOTIFY_MESSAGE") = DVS_NOTIFY_MESSAGE;
  mod.attr("WAIT_SPIN") = static_cast<int>(DVS_WAIT_SPIN);
  mod.attr("WAIT_SPIN_THEN_BLOCK") = static_cast<int>(DVS_WAIT_SPIN_THEN_BLOCK);
  mod.attr("WAIT_BLOCK") = static_cast<int>(DVS_WAIT_BLOCK);
  mod.attr("DEFAULT_SPIN_NS") = DVS_DEFAULT_SPIN_NS;
  mod.attr("LEVEL_USER") = static_cast<int>(DVS_LEVEL_USER);
  mod.attr("LEVEL_SERVER") = static_cast<int>(DVS_LEVEL_SERVER);
  mod.attr("LEVEL_TASK") = static_cast<int>(DVS_LEVEL_TASK);
  mod.attr("LEVEL_SYSTEM") = static_cast<int>(DVS_LEVEL_SYSTEM);
  mod.attr("LEVEL_KERNEL") = static_cast<int>(DVS_LEVEL_KERNEL);
  mod.attr("LEVEL_PROXY") = static_cast<int>(DVS_LEVEL_PROXY);
  mod.attr("SLOT_FREE") = DVS_SLOT_FREE;
  mod.attr("SENDING") = DVS_SENDING;
  mod.attr("RECEIVING") = DVS_RECEIVING;
  mod.attr("ONCOPY") = DVS_ONCOPY;
  mod.attr("REMOTE") = DVS_REMOTE;
  mod.def("endpoint", [](int gen, int p_nr) { return DVS_ENDPOINT(gen, p_nr); }, py::arg("gen"), py::arg("p_nr"),
          "endpoint of generation gen, slot p_nr");
  mod.def("endpoint_p", [](int e) { return DVS_ENDPOINT_P(e); }, py::arg("ep"), "p_nr of an endpoint");
  mod.def("endpoint_g", [](int e) { return DVS_ENDPOINT_G(e); }, py::arg("ep"), "generation of an endpoint");
  mod.def("notify_from", [](int p_nr) { return DVS_NOTIFY_FROM(p_nr); }, py::arg("p_nr"),
          "m_type of a notify message from slot p_nr");
  mod.def("is_notify", [](int t) { return DVS_IS_NOTIFY(t); }, py::arg("m_type"));

  // ---- Message ----
  py::class_<PyMessage> msg(mod, "Message", "one 64-byte dvs message (m_source, m_type, 56-byte payload)");
  msg.def(py::init([](int m_type, py::kwargs kw) {
            PyMessage pm;
            pm.m.m_type = m_type;
            py::object self = py::cast(pm);
            for (auto item : kw) py::setattr(self, item.first, item.second);
            return self.cast<PyMessage>();
          }),
          py::arg("m_type") = 0, "Message(m_type=0, **fields): e.g. Message(1, m1i1=7, payload=b'hi')");
  msg.def_property(
      "m_source", [](const PyMessage& p) { return p.m.m_source; }, [](PyMessage& p, int v) { p.m.m_source = v; });
  msg.def_property(
      "m_type", [](const PyMessage& p) { return p.m.m_type; }, [](PyMessage& p, int v) { p.m.m_type = v; });
  msg.def_property(
      "payload",
      [](const PyMessage& p) { return py::bytes(reinterpret_cast<const char*>(p.m.m_u.raw), DVS_MSG_PAYLOAD); },
      [](PyMessage& p, const py::bytes& b) {
        std::string s = b;
        if (s.size() > DVS_MSG_PAYLOAD) throw py::value_error("payload is at most 56 bytes");
        std::memset(p.m.m_u.raw, 0, DVS_MSG_PAYLOAD);
        std::memcpy(p.m.m_u.raw, s.data(), s.size());
      },
      "the 56 payload bytes (assigning fewer zero-fills the rest)");
  msg.def("to_bytes", [](const PyMessage& p) { return py::bytes(reinterpret_cast<const char*>(&p.m), sizeof p.m); },
          "the whole 64-byte message");
  msg.def_static(
      "from_bytes",
      [](const py::bytes& b) {
        std::string s = b;
        if (s.size() != sizeof(dvs_message_t)) throw py::value_error("a message is 64 bytes");
        PyMessage pm;
        std::memcpy(&pm.m, s.data(), sizeof pm.m);
        return pm;
      },
      py::arg("data"));
  msg.def("copy", [](const PyMessage& p) { return p; });
  msg.def("__eq__", [](const PyMessage& a, const PyMessage& b) { return std::memcmp(&a.m, &b.m, sizeof a.m) == 0; });
  msg.def("__repr__", [](const PyMessage& p) {
    return "Message(m_source=" + std::to_string(p.m.m_source) + ", m_type=" + std::to_string(p.m.m_type) + ")";
  });
  DVS_FIELD(msg, int32_t, m1, m1i1);
  DVS_FIELD(msg, int32_t, m1, m1i2);
  DVS_FIELD(msg, int32_t, m1, m1i3);
  DVS_FIELD(msg, uint64_t, m1, m1p1);
  DVS_FIELD(msg, uint64_t, m1, m1p2);
  DVS_FIELD(msg, uint64_t, m1, m1p3);
  DVS_FIELD(msg, int32_t, m2, m2i1);
  DVS_FIELD(msg, int32_t, m2, m2i2);
  DVS_FIELD(msg, int32_t, m2, m2i3);
  DVS_FIELD(msg, int64_t, m2, m2l1);
  DVS_FIELD(msg, int64_t, m2, m2l2);
  DVS_FIELD(msg, uint64_t, m2, m2p1);
  DVS_FIELD(msg, int32_t, m3, m3i1);
  DVS_FIELD(msg, int32_t, m3, m3i2);
  DVS_FIELD(msg, uint64_t, m3, m3p1);
  msg.def_property(
      "m3ca1",
      [](const PyMessage& p) { return py::bytes(p.m.m_u.m3.m3ca1, strnlen(p.m.m_u.m3.m3ca1, sizeof p.m.m_u.m3.m3ca1)); },
      [](PyMessage& p, const py::bytes& b) {
        std::string s = b;
        if (s.size() > sizeof p.m.m_u.m3.m3ca1) throw py::value_error("m3ca1 is at most 40 bytes");
        std::memset(p.m.m_u.m3.m3ca1, 0, sizeof p.m.m_u.m3.m3ca1);
        std::memcpy(p.m.m_u.m3.m3ca1, s.data(), s.size());
      });
  DVS_FIELD(msg, int64_t, m4, m4l1);
  DVS_FIELD(msg, int64_t, m4, m4l2);
  DVS_FIELD(msg, int64_t, m4, m4l3);
  DVS_FIELD(msg, int64_t, m4, m4l4);
  DVS_FIELD(msg, int64_t, m4, m4l5);
  DVS_FIELD(msg, int32_t, m7, m7i1);
  DVS_FIELD(msg, int32_t, m7, m7i2);
  DVS_FIELD(msg, int32_t, m7, m7i3);
  DVS_FIELD(msg, int32_t, m7, m7i4);
  DVS_FIELD(msg, uint64_t, m7, m7p1);
  DVS_FIELD(msg, uint64_t, m7, m7p2);
  DVS_FIELD(msg, int64_t, m9, m9_l1);
  DVS_FIELD(msg, int64_t, m9, m9_t1_sec);
  DVS_FIELD(msg, int64_t, m9, m9_t1_nsec);
  DVS_FIELD(msg, int32_t, m9, m9_i1);
  DVS_FIELD(msg, int32_t, m9, m9_i2);

  // ---- connection and binding ----
  mod.def(
      "open",
      [](std::optional<std::string> path) {
        const int rc = without_gil([&] { return dvs_open(path ? path->c_str() : nullptr); });
        check(rc, "open");
      },
      py::arg("socket") = py::none(), "connect to the node's dvsd (None: $DVS_SOCKET, else /run/dvs/dvsd.sock)");
  mod.def(
      "close",
      [] {
        py::gil_scoped_release nogil;
        dvs_close();
      },
      "unbind everything this process bound and disconnect");
  mod.def("nodeid", [] { return check(dvs_nodeid(), "nodeid"); });
  // A task's endpoint is its negative p_nr (dvs.h): success iff the p_nr asked for came back.
  auto bind_result = [](int rc, int p_nr, const char* call) -> int {
    if (rc < 0 && !(p_nr < 0 && rc == p_nr)) raise_dvs(rc, call);
    return rc;
  };
  mod.def(
      "bind",
      [bind_result](int dcid, int p_nr) {
        const int rc = without_gil([&] { return dvs_bind(dcid, p_nr); });
        return bind_result(rc, p_nr, "bind");
      },
      py::arg("dcid"), py::arg("p_nr"), "bind this process to slot p_nr of DC dcid (dvs.ANY: a free user slot); returns the endpoint");
  mod.def(
      "tbind",
      [bind_result](int dcid, int p_nr) {
        const int rc = without_gil([&] { return dvs_tbind(dcid, p_nr); });
        return bind_result(rc, p_nr, "tbind");
      },
      py::arg("dcid"), py::arg("p_nr"), "bind the calling thread; returns the endpoint");
  mod.def(
      "lclbind",
      [bind_result](int dcid, int pid, int p_nr) {
        const int rc = without_gil([&] { return dvs_lclbind(dcid, static_cast<pid_t>(pid), p_nr); });
        return bind_result(rc, p_nr, "lclbind");
      },
      py::arg("dcid"), py::arg("pid"), py::arg("p_nr"), "bind local process pid on its behalf (it then calls wait4bind)");
  mod.def(
      "wait4bind",
      [](std::optional<long> t) {
        const int rc = without_gil([&] { return dvs_wait4bind_T(timeout_ms(t)); });
        // -35..-1 is either a task's endpoint or an error code (dvs.h): the binding decides.
        if (rc < 0 && (rc < -DVS_NR_TASKS_MAX || dvs_self() != rc)) raise_dvs(rc, "wait4bind");
        return rc;
      },
      py::arg("timeout") = py::none(), "take the binding dvs.lclbind made for this process; returns the endpoint");
  mod.def(
      "wait4bindep",
      [](int dcid, int ep, std::optional<long> t) {
        const int rc = without_gil([&] { return dvs_wait4bindep_T(dcid, ep, timeout_ms(t)); });
        if (rc < 0 && rc != ep) raise_dvs(rc, "wait4bindep");
        return rc;
      },
      py::arg("dcid"), py::arg("ep"), py::arg("timeout") = py::none(), "wait until endpoint ep of dcid is bound");
  mod.def("rmtbind", [](int dcid, int ep, int node) { return check(dvs_rmtbind(dcid, ep, node), "rmtbind"); },
          py::arg("dcid"), py::arg("ep"), py::arg("nodeid"), "declare that endpoint ep of dcid lives on node nodeid");
  mod.def("add_node", [](int dcid, int node) { return check(dvs_add_node(dcid, node), "add_node"); }, py::arg("dcid"),
          py::arg("nodeid"));
  mod.def(
      "del_node",
      [](int dcid, int node) {
        const int rc = without_gil([&] { return dvs_del_node(dcid, node); });
        return check(rc, "del_node");
      },
      py::arg("dcid"), py::arg("nodeid"));
  mod.def("unbind", [](int dcid, int ep) { return check(dvs_unbind(dcid, ep), "unbind"); }, py::arg("dcid"), py::arg("ep"));
  mod.def("getep", [](int pid) { return check(dvs_getep(static_cast<pid_t>(pid)), "getep"); }, py::arg("pid"),
          "endpoint of a bound local process; answered only to a caller bound in that process's DC (else EDVSNOTBIND)");
  mod.def(
      "self",
      [] {
        int rc = dvs_self();
        if (rc == EDVSNOTBIND) raise_dvs(rc, "self");
        return rc;
      },
      "the calling thread's effective endpoint");
  mod.def(
      "set_wait", [](int mode, uint32_t spin_ns) { return check(dvs_set_wait(static_cast<dvs_wait_mode_t>(mode), spin_ns), "set_wait"); },
      py::arg("mode"), py::arg("spin_ns") = DVS_DEFAULT_SPIN_NS, "wait strategy: dvs.WAIT_SPIN, WAIT_SPIN_THEN_BLOCK or WAIT_BLOCK");

  // ---- IPC primitives ----
  using OptMsg = std::optional<PyMessage*>;
  mod.def(
      "send",
      [](int dst, PyMessage& pm, std::optional<long> t) {
        const long to = timeout_ms(t);
        msg_call(pm, "send", [&](dvs_message_t* m) { return dvs_send_T(dst, m, to); });
      },
      py::arg("dst"), py::arg("msg"), py::arg("timeout") = py::none(),
      "send msg to dst; returns when dst has taken it");
  mod.def(
      "receive",
      [](int src, OptMsg into, std::optional<long> t) {
        PyMessage local;
        PyMessage& pm = into && *into ? **into : local;
        const long to = timeout_ms(t);
        msg_call(pm, "receive", [&](dvs_message_t* m) { return dvs_receive_T(src, m, to); });
        return pm;
      },
      py::arg("src") = DVS_ANY, py::arg("msg") = py::none(), py::arg("timeout") = py::none(),
      "receive from src (dvs.ANY); returns the Message (also written into msg if given)");
  mod.def(
      "sendrec",
      [](int dst, PyMessage& pm, std::optional<long> t) -> PyMessage& {
        const long to = timeout_ms(t);
        return msg_call(pm, "sendrec", [&](dvs_message_t* m) { return dvs_sendrec_T(dst, m, to); });
      },
      py::arg("dst"), py::arg("msg"), py::arg("timeout") = py::none(), py::return_value_policy::reference,
      "send msg to dst and wait for its reply, which overwrites msg; returns msg");
  mod.def(
      "notify",
      [](int dst) {
        const int rc = without_gil([&] { return dvs_notify(dst); });
        check(rc, "notify");
      },
      py::arg("dst"), "non-blocking signal to dst");
  mod.def(
      "rcvrqst",
      [](OptMsg into, std::optional<long> t) {
        PyMessage local;
        PyMessage& pm = into && *into ? **into : local;
        const long to = timeout_ms(t);
        msg_call(pm, "rcvrqst", [&](dvs_message_t* m) { return dvs_rcvrqst_T(m, to); });
        return pm;
      },
      py::arg("msg") = py::none(), py::arg("timeout") = py::none(), "server receive of a request (system processes only)");
  mod.def(
      "reply",
      [](int dst, PyMessage& pm, std::optional<long> t) {
        const long to = timeout_ms(t);
        msg_call(pm, "reply", [&](dvs_message_t* m) { return dvs_reply_T(dst, m, to); });
      },
      py::arg("dst"), py::arg("msg"), py::arg("timeout") = py::none(), "reply to dst, which must be waiting for the caller");
  mod.def("vcopy", &py_vcopy, py::arg("src_ep"), py::arg("src"), py::arg("dst_ep"), py::arg("dst"),
          py::arg("nbytes") = py::none(),
          "copy nbytes from (src_ep, src) to (dst_ep, dst); src/dst: an int address in that party's process or a "
          "buffer of this process (dst writable). nbytes defaults to the buffer length. Returns the bytes copied.");
  mod.def("address_of", &address_of, py::arg("buffer"),
          "address of a contiguous buffer of this process, to pass to a peer that will vcopy to/from it (keep the "
          "buffer alive and do not resize it meanwhile)");
  mod.def(
      "wakeup",
      [](int dcid, int ep) {
        const int rc = without_gil([&] { return dvs_wakeup(dcid, ep); });
        check(rc, "wakeup");
      },
      py::arg("dcid"), py::arg("ep"), "force ep out of a blocking call (it gets EDVSWOKENUP)");

  // ---- introspection and privileges ----
  mod.def(
      "getdcinfo",
      [](int dcid) {
        dvs_dcinfo_t i{};
        check(dvs_getdcinfo(dcid, &i), "getdcinfo");
        return dcinfo_dict(i);
      },
      py::arg("dcid"), "geometry and span of a DC (a dict)");
  mod.def(
      "getprocinfo",
      [](int dcid, int p_nr) {
        dvs_procinfo_t p{};
        check(dvs_getprocinfo(dcid, p_nr, &p), "getprocinfo");
        return procinfo_dict(p);
      },
      py::arg("dcid"), py::arg("p_nr"), "state of slot p_nr (a dict; 'flags' names the p_rts_flags bits)");
  mod.def(
      "getpriv",
      [](int dcid, int ep) {
        dvs_priv_t p{};
        check(dvs_getpriv(dcid, ep, &p), "getpriv");
        py::dict d;
        d["level"] = p.level;
        std::vector<uint64_t> words(std::begin(p.ipc_to), std::end(p.ipc_to));
        d["ipc_to"] = words;
        return d;
      },
      py::arg("dcid"), py::arg("ep"), "privileges of ep: {'level': int, 'ipc_to': [8 x uint64 bitmap words]}");
  mod.def(
      "setpriv",
      [](int dcid, int ep, const py::dict& d) {
        dvs_priv_t p{};
        check(dvs_getpriv(dcid, ep, &p), "setpriv");
        if (d.contains("level")) p.level = d["level"].cast<int32_t>();
        if (d.contains("ipc_to")) {
          auto words = d["ipc_to"].cast<std::vector<uint64_t>>();
          if (words.size() != std::size(p.ipc_to)) throw py::value_error("ipc_to must have 8 words");
          std::copy(words.begin(), words.end(), std::begin(p.ipc_to));
        }
        check(dvs_setpriv(dcid, ep, &p), "setpriv");
      },
      py::arg("dcid"), py::arg("ep"), py::arg("priv"),
      "change privileges of ep (keys of getpriv; missing keys keep their value)");
}
