/*
 * C accelerators for reading blocks: a block holds hundreds of small items, and per-item work in
 * Python (or hashlib's OpenSSL 3 algorithm fetch and context allocation per hash) dominates.
 *
 *   each(prefix, values) -> [SHA384(prefix || v) for v in values]
 *   group(values, table) -> lists of values by table[value[0]], item order kept in each list
 *   fold(prefix, hashes) -> the streaming fold of 48-byte hashes: one perfect subtree per set bit
 *                           of the count, largest first, folded right to left with prefixed pairs
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
each(PyObject *self, PyObject *args)
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
    PyObject *result = PyList_New(count);
    if (result == NULL) {
        goto fail_early;
    }
    PyObject **items = PySequence_Fast_ITEMS(seq);
    const char **data = PyMem_Malloc(sizeof(char *) * (size_t)(count ? count : 1));
    Py_ssize_t *sizes = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(count ? count : 1));
    unsigned char *digests = PyMem_Malloc((size_t)(count ? count : 1) * DIGEST_SIZE);
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
    for (Py_ssize_t i = 0; ok && i < count; i++) {
        ok = digest_parts(&prefix, data[i], sizes[i], NULL, 0, digests + i * DIGEST_SIZE);
    }
    Py_END_ALLOW_THREADS
    if (!ok) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL SHA-384 failed");
        goto fail_buffers;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
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

/* The root of the perfect tree over count (a power of two) digests at level, computed in place:
 * each pair's digest is written where the pair's left half was read from or before. */
static int
perfect_root(const Py_buffer *prefix, unsigned char *level, Py_ssize_t count)
{
    for (; count > 1; count /= 2) {
        for (Py_ssize_t i = 0; i < count / 2; i++) {
            const char *left = (const char *)level + 2 * i * DIGEST_SIZE;
            if (!digest_parts(prefix, left, DIGEST_SIZE, left + DIGEST_SIZE, DIGEST_SIZE, level + i * DIGEST_SIZE)) {
                return 0;
            }
        }
    }
    return 1;
}

static PyObject *
fold(PyObject *self, PyObject *args)
{
    Py_buffer prefix;
    PyObject *values;
    if (!PyArg_ParseTuple(args, "y*O", &prefix, &values)) {
        return NULL;
    }
    PyObject *result = NULL;
    unsigned char *level = NULL;
    PyObject *seq = PySequence_Fast(values, "hashes must be a sequence of bytes");
    if (seq == NULL) {
        goto done;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    if (count == 0) {
        PyErr_SetString(PyExc_ValueError, "fold() needs at least one hash");
        goto done;
    }
    level = PyMem_Malloc((size_t)count * DIGEST_SIZE);
    if (level == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < count; i++) {
        if (!PyBytes_Check(items[i]) || PyBytes_GET_SIZE(items[i]) != DIGEST_SIZE) {
            PyErr_SetString(PyExc_ValueError, "hashes must be 48-byte bytes");
            goto done;
        }
        memcpy(level + i * DIGEST_SIZE, PyBytes_AS_STRING(items[i]), DIGEST_SIZE);
    }
    int ok = 1;
    unsigned char root[DIGEST_SIZE];
    Py_BEGIN_ALLOW_THREADS
    /* Subtree roots are left at the start of each subtree, largest subtree first. */
    Py_ssize_t starts[sizeof(Py_ssize_t) * 8];
    int roots = 0;
    Py_ssize_t start = 0;
    for (int bit = (int)(sizeof(Py_ssize_t) * 8) - 2; ok && bit >= 0; bit--) {
        Py_ssize_t size = (Py_ssize_t)1 << bit;
        if (count & size) {
            ok = perfect_root(&prefix, level + start * DIGEST_SIZE, size);
            starts[roots++] = start;
            start += size;
        }
    }
    memcpy(root, level + starts[roots - 1] * DIGEST_SIZE, DIGEST_SIZE);
    for (int i = roots - 2; ok && i >= 0; i--) {
        ok = digest_parts(&prefix, (const char *)level + starts[i] * DIGEST_SIZE, DIGEST_SIZE, (const char *)root,
                          DIGEST_SIZE, root);
    }
    Py_END_ALLOW_THREADS
    if (!ok) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL SHA-384 failed");
        goto done;
    }
    result = PyBytes_FromStringAndSize((const char *)root, DIGEST_SIZE);
done:
    PyMem_Free(level);
    Py_XDECREF(seq);
    PyBuffer_Release(&prefix);
    return result;
}

static PyMethodDef methods[] = {
    {"each", each, METH_VARARGS, "each(prefix, values): SHA-384 of prefix + value, for every value."},
    {"group", group, METH_VARARGS, "group(values, table): values in lists by table[value[0]], order kept."},
    {"fold", fold, METH_VARARGS, "fold(prefix, hashes): the streaming fold of 48-byte hashes into one root."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_accel", "C accelerators for reading blocks.", -1, methods};

PyMODINIT_FUNC
PyInit__accel(void)
{
    return PyModule_Create(&module);
}
