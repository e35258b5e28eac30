/*
 * C accelerators for reading blocks: a block holds hundreds of small items, and per-item work in
 * Python (or hashlib's OpenSSL 3 algorithm fetch and context allocation per hash) dominates.
 *
 *   each(prefix, values) -> [SHA384(prefix || v) for v in values]
 *   pairs(prefix, level) -> [SHA384(prefix || level[i] || level[i+1]) for i in 0, 2, 4, ...]
 *   group(values, table) -> lists of values by table[value[0]], item order kept in each list
 *
 * Hashing runs without the GIL. The pure-Python versions in block_hash.py give the same results.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#define DIGEST_SIZE 48

/* The one-shot SHA-384 functions: no provider dispatch per hash, which is most of the cost of
 * hashing a 100-byte item through EVP. They are deprecated in OpenSSL 3 but remain available. */
static int
digest_parts(const Py_buffer *prefix, const char *a, Py_ssize_t a_len, const char *b, Py_ssize_t b_len,
             unsigned char *out)
{
    /* Runs without the GIL: no Python API here. */
    SHA512_CTX ctx;
    return SHA384_Init(&ctx) && SHA384_Update(&ctx, prefix->buf, (size_t)prefix->len) &&
           SHA384_Update(&ctx, a, (size_t)a_len) && (!b_len || SHA384_Update(&ctx, b, (size_t)b_len)) &&
           SHA384_Final(out, &ctx);
}

static PyObject *
hash_sequence(PyObject *args, int pairwise)
{
    Py_buffer prefix;
    PyObject *values;
    if (!PyArg_ParseTuple(args, "y*O", &prefix, &values)) {
        return NULL;
    }
    PyObject *seq = PySequence_Fast(values, "values must be a sequence of bytes");
    if (seq == NULL) {
        PyBuffer_Release(&prefix);
        return NULL;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    if (pairwise && count % 2) {
        PyErr_SetString(PyExc_ValueError, "pairs() needs an even number of values");
        goto fail_early;
    }
    Py_ssize_t outputs = pairwise ? count / 2 : count;
    PyObject *result = PyList_New(outputs);
    if (result == NULL) {
        goto fail_early;
    }
    PyObject **items = PySequence_Fast_ITEMS(seq);
    const char **data = PyMem_Malloc(sizeof(char *) * (size_t)(count ? count : 1));
    Py_ssize_t *sizes = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(count ? count : 1));
    unsigned char *digests = PyMem_Malloc((size_t)(outputs ? outputs : 1) * DIGEST_SIZE);
    if (data == NULL || sizes == NULL || digests == NULL) {
        PyErr_NoMemory();
        goto fail_buffers;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (!PyBytes_Check(items[i])) {
            PyErr_SetString(PyExc_TypeError, "values must be bytes");
            goto fail_buffers;
        }
        data[i] = PyBytes_AS_STRING(items[i]);
        sizes[i] = PyBytes_GET_SIZE(items[i]);
    }
    /* The sequence keeps every value alive: hash without the GIL so threads run in parallel. */
    int ok = 1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; ok && i < outputs; i++) {
        Py_ssize_t first = pairwise ? 2 * i : i;
        ok = digest_parts(&prefix, data[first], sizes[first], pairwise ? data[first + 1] : NULL,
                          pairwise ? sizes[first + 1] : 0, digests + i * DIGEST_SIZE);
    }
    Py_END_ALLOW_THREADS
    if (!ok) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL SHA-384 failed");
        goto fail_buffers;
    }
    for (Py_ssize_t i = 0; i < outputs; i++) {
        PyObject *hash = PyBytes_FromStringAndSize((const char *)digests + i * DIGEST_SIZE, DIGEST_SIZE);
        if (hash == NULL) {
            goto fail_buffers;
        }
        PyList_SET_ITEM(result, i, hash);
    }
    PyMem_Free(data);
    PyMem_Free(sizes);
    PyMem_Free(digests);
    Py_DECREF(seq);
    PyBuffer_Release(&prefix);
    return result;
fail_buffers:
    PyMem_Free(data);
    PyMem_Free(sizes);
    PyMem_Free(digests);
    Py_DECREF(result);
fail_early:
    Py_DECREF(seq);
    PyBuffer_Release(&prefix);
    return NULL;
}

static PyObject *
each(PyObject *self, PyObject *args)
{
    return hash_sequence(args, 0);
}

static PyObject *
pairs(PyObject *self, PyObject *args)
{
    return hash_sequence(args, 1);
}

static PyObject *
group(PyObject *self, PyObject *args)
{
    PyObject *values;
    Py_buffer table;
    if (!PyArg_ParseTuple(args, "Oy*", &values, &table)) {
        return NULL;
    }
    PyObject *seq = NULL, *result = NULL;
    if (table.len != 256) {
        PyErr_SetString(PyExc_ValueError, "table must have 256 entries");
        goto done;
    }
    const unsigned char *map = table.buf;
    int groups = 0;
    for (int i = 0; i < 256; i++) {
        groups = map[i] + 1 > groups ? map[i] + 1 : groups;
    }
    seq = PySequence_Fast(values, "values must be a sequence of bytes");
    if (seq == NULL) {
        goto done;
    }
    result = PyList_New(groups);
    if (result == NULL) {
        goto done;
    }
    for (int i = 0; i < groups; i++) {
        PyObject *bucket = PyList_New(0);
        if (bucket == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, bucket);
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < count; i++) {
        if (!PyBytes_Check(items[i]) || PyBytes_GET_SIZE(items[i]) == 0) {
            PyErr_SetString(PyExc_ValueError, "values must be non-empty bytes");
            Py_CLEAR(result);
            goto done;
        }
        unsigned char first = (unsigned char)PyBytes_AS_STRING(items[i])[0];
        if (PyList_Append(PyList_GET_ITEM(result, map[first]), items[i]) < 0) {
            Py_CLEAR(result);
            goto done;
        }
    }
done:
    Py_XDECREF(seq);
    PyBuffer_Release(&table);
    return result;
}

static PyMethodDef methods[] = {
    {"each", each, METH_VARARGS, "each(prefix, values): SHA-384 of prefix + value, for every value."},
    {"pairs", pairs, METH_VARARGS, "pairs(prefix, level): SHA-384 of prefix + left + right, for every pair."},
    {"group", group, METH_VARARGS, "group(values, table): values in lists by table[value[0]], order kept."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_accel", "C accelerators for reading blocks.", -1, methods};

PyMODINIT_FUNC
PyInit__accel(void)
{
    return PyModule_Create(&module);
}
