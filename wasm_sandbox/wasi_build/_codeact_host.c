/* _codeact_host: the guest's host calls as two WebAssembly imports instead of stdin/stdout.
 *
 * Built into python.wasm by build_python_wasm.sh (Modules/Setup.local). The guest driver calls
 * _codeact_host.call(request) with one request line (bytes; empty: send nothing, only wait) and
 * gets back the bytes the app answered, up to and including a newline. The round trip itself is
 * done by the interpreter's process (wasm_sandbox/child.py) on the guest's own thread, in the
 * two imports below; there wasmtime's stdin thread is not involved, which saved a thread
 * wake-up and its lock per call.
 *
 *   codeact.call(ptr, len, buf, cap) -> n
 *       write len bytes at ptr to the app, wait for its answer; n its length in bytes (0: the
 *       app closed the bridge, -1: refused, a bad pointer or length). An answer of at most cap
 *       bytes is copied to buf at once (most are: one import call per host call); a longer one
 *       is kept for take.
 *   codeact.take(ptr, n) -> n
 *       copy the kept answer (exactly n bytes) to ptr; -1 refused
 *
 * The host checks every pointer and length against the memory's current size: code in the
 * guest can call this module with anything and gets a Python exception, nothing worse.
 */
#include "Python.h"

__attribute__((import_module("codeact"), import_name("call")))
extern int32_t codeact_call(const char *data, int32_t size, char *buf, int32_t cap);

__attribute__((import_module("codeact"), import_name("take")))
extern int32_t codeact_take(char *data, int32_t size);

/* Where a short answer lands (one interpreter, one thread: a static buffer is enough). */
static char answer_buf[8192];

static PyObject *
host_call(PyObject *module, PyObject *request)
{
    if (!PyBytes_Check(request)) {
        PyErr_Format(PyExc_TypeError, "call() argument must be bytes, not %.100s",
                     Py_TYPE(request)->tp_name);
        return NULL;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(request);
    if (size > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "the request is too large");
        return NULL;
    }
    int32_t n = codeact_call(PyBytes_AS_STRING(request), (int32_t)size, answer_buf,
                             (int32_t)sizeof(answer_buf));
    if (n < 0) {
        PyErr_SetString(PyExc_OSError, "the host refused the call");
        return NULL;
    }
    if ((size_t)n <= sizeof(answer_buf)) {
        return PyBytes_FromStringAndSize(answer_buf, n);
    }
    PyObject *answer = PyBytes_FromStringAndSize(NULL, n);
    if (answer == NULL) {
        return NULL;
    }
    if (codeact_take(PyBytes_AS_STRING(answer), n) != n) {
        Py_DECREF(answer);
        PyErr_SetString(PyExc_OSError, "the host refused to hand over the answer");
        return NULL;
    }
    return answer;
}

static PyMethodDef host_methods[] = {
    {"call", host_call, METH_O,
     "call(request: bytes) -> bytes\n\nSend request to the app (b'': send nothing) and return "
     "its answer, which ends with a newline; b'' when the app closed the bridge."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot host_slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef host_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_codeact_host",
    .m_doc = "Host calls of the CodeAct sandbox as WebAssembly imports.",
    .m_size = 0,
    .m_methods = host_methods,
    .m_slots = host_slots,
};

PyMODINIT_FUNC
PyInit__codeact_host(void)
{
    return PyModuleDef_Init(&host_module);
}
