"""Compiling a ufunc's loops when a call first needs them, from inside that call.

A ufunc is built with its loop records (``_threads.loop_info``) holding no contiguous
loop and no buffered loop.  When NumPy calls the driver (``_parallel``) with a record
that lacks what the operands need, the driver calls ``_resolve`` (a C callback into
Python, which takes the GIL): it compiles the kernel's contiguous loop for that dtype,
and the buffered loop for operands the contiguous loop cannot take, or links them from
the cache (``_native``), and writes their addresses into every record that uses them.  So the first
float32 call compiles the float32 loop and no float64 one, whether it comes through the
public functions, the raw ufunc, ``.outer``, ``.at``, ``.reduce``, dask or a process
that unpickled the ufunc.  An exception while compiling is handed back to the driver,
which makes it the call's error: NumPy raises it as itself.
"""

import ctypes

from . import _cache, _threads

_loops = {}  # (kernel name, code) -> [the records of that kernel whose loop computes in code]
_records = {}  # record address -> (kernel name, code, nin, nout, announce)
_buffered_address = 0  # the buffered loop's, once compiled or linked
_failures = []  # the last exceptions handed to a driver (it reads them by address)


def register(record, name, code, nin, nout, announce):
    """Make `record` (a loop of the kernel `name` computing in the dtype `code`) resolvable,
    and fill in what this process has already compiled."""
    with _cache.lock:
        _records[record.ctypes.data] = (name, code, nin, nout, announce)
        siblings = _loops.setdefault((name, code), [])
        if siblings:
            record[_threads.SLOT_CONTIGUOUS] = siblings[0][_threads.SLOT_CONTIGUOUS]
        record[_threads.SLOT_BUFFERED] = _buffered_address
        siblings.append(record)


def link_cached_buffered_loop():
    """Give every record the buffered loop if the cache holds it (linking takes
    milliseconds): strided calls then never run element by element in its place."""
    with _cache.lock:
        if _buffered_address == 0:
            from . import _ufunc

            loop = _ufunc.buffered_loop(cached_only=True)
            if loop is not None:
                _set_buffered(loop.address)


def _set_buffered(address):
    global _buffered_address
    _buffered_address = address
    for records in _loops.values():
        for record in records:
            record[_threads.SLOT_BUFFERED] = address


def _resolve(record_address, buffered):
    """Compile (or load) the contiguous loop of the record at `record_address` and, if
    `buffered`, the buffered loop; 0, or the address of the exception that stopped it."""
    from . import _ufunc

    try:
        with _cache.lock:
            name, code, nin, nout, announce = _records[record_address]
            siblings = _loops[name, code]
            if siblings[0][_threads.SLOT_CONTIGUOUS] == 0:
                dtype = "float32" if code == "f" else "float64"
                before = None if announce is None else lambda: announce(f"{name} for {dtype}")
                loop = _ufunc.contiguous_loop(name, code, nin, nout, None, before)
                for record in siblings:
                    record[_threads.SLOT_CONTIGUOUS] = loop.address
            if buffered and _buffered_address == 0:
                before = None if announce is None else lambda: announce("the loop for strided and mixed-dtype operands")
                _set_buffered(_ufunc.buffered_loop(None, before).address)
        return 0
    except BaseException as error:  # noqa: BLE001 - every error, KeyboardInterrupt too, is the call's
        _failures.append(error)
        del _failures[:-16]  # the driver raises it at once; a few are kept for other threads
        return id(error)


_RESOLVER = ctypes.CFUNCTYPE(ctypes.c_ssize_t, ctypes.c_ssize_t, ctypes.c_ssize_t)(_resolve)
#: The address the records hold (the ctypes callback above stays alive with this module).
RESOLVER_ADDRESS = ctypes.cast(_RESOLVER, ctypes.c_void_p).value
