"""The CPU loops' machine code, kept as object files in the cache directory and linked
into this process with llvmlite.

numba's own cache reloads a function through its compiler (the typing and target
contexts and their registries: ~0.15 s for a process's first load).  The CPU loops need
none of it: each is a C function with NumPy's loop signature whose code calls only C
helpers that numba registers with LLVM (its threading layer, its exception helpers, NRT)
and the CPython API.  So numba compiles a loop once (``cfunc``, no numba cache), its
object code is written to ``<module>.<function>-<machine>.o`` beside the generated
module (``_cache``), and later processes link that file into one MCJIT engine of their
own, in milliseconds.  ``<machine>`` is a digest of what the code was compiled for, as
numba's cache keys it: the target triple, the CPU name and features (``NUMBA_CPU_NAME``,
``NUMBA_CPU_FEATURES``), llvmlite's version.
"""

import collections
import hashlib
import os

import llvmlite
import llvmlite.binding as ll
from numba.core import base as _numba_base
from numba.core import config as _numba_config
from numba.core.codegen import get_host_cpu_features
from numba.core.runtime import _nrt_python
from numba.np.ufunc import parallel as _numba_parallel

from . import _cache

#: A compiled C function: its address, and whether it came from an object file.
Compiled = collections.namedtuple("Compiled", "address loaded")

#: The first line of every object file celu_numba writes; then the function's symbol,
#: the symbols its code imports, the SHA-256 of the code (LLVM crashes on a damaged
#: object: it is checked first), one line each, and the object code (pack, unpack).
_MAGIC = b"celu_numba object code 2\n"
_engine = None
_functions = {}  # file name -> (Compiled, the file's bytes): what this process holds
_alive = []  # the CFuncs compiled in this process (their code lives as long as they do)


def machine():
    """(triple, CPU name, CPU features, llvmlite version): what numba compiles for here
    (numba's ``JITCPUCodegen.magic_tuple``, which keys its own cache)."""
    name = ll.get_host_cpu_name() if _numba_config.CPU_NAME is None else _numba_config.CPU_NAME
    features = get_host_cpu_features() if _numba_config.CPU_FEATURES is None else _numba_config.CPU_FEATURES
    return ll.get_process_triple(), name, features, llvmlite.__version__


def _register_runtime():
    """Give LLVM the addresses of the C helpers numba's compiled code calls, as numba's
    CPU target does before its first compile: the threading layer's (``numba_parallel_for``,
    ``get_num_threads``), numba's own (exceptions, the GIL) and NRT's."""
    _numba_parallel._launch_threads()
    _numba_base._load_global_helpers()
    for name, address in _nrt_python.c_helpers.items():
        ll.add_symbol(name if name.startswith("_") else "NRT_" + name, address)


def _jit():
    """This process's MCJIT engine for object files (created, and the runtime registered,
    on first use)."""
    global _engine
    if _engine is None:
        _register_runtime()
        ll.initialize_native_target()
        ll.initialize_native_asmprinter()
        target = ll.Target.from_triple(ll.get_process_triple()).create_target_machine(jit=True)
        _engine = ll.create_mcjit_compiler(ll.parse_assembly(""), target)
    return _engine


def pack(symbol, imports, code):
    """The bytes of an object file: _MAGIC, `symbol`, the `imports`, the code's digest,
    the object `code`."""
    digest = hashlib.sha256(code).hexdigest()
    return _MAGIC + "\n".join([symbol, " ".join(imports), digest]).encode() + b"\n" + code


def unpack(data):
    """(symbol, imports, code) of an object file's bytes; None unless they are whole and
    of this version."""
    if not data.startswith(_MAGIC) or data.count(b"\n") < 4:
        return None
    symbol, imports, digest, code = data[len(_MAGIC):].split(b"\n", 3)
    if hashlib.sha256(code).hexdigest().encode() != digest:
        return None
    return symbol.decode(), imports.decode().split(), code


def _object_file(library, symbol):
    """The object file of numba's finalized `library`, whose function is `symbol`."""
    module = library._final_module
    imports = sorted(
        value.name
        for value in (*module.functions, *module.global_variables)
        if value.is_declaration and not value.name.startswith("llvm.")
    )
    return pack(symbol, imports, library._get_compiled_object())


def _link(data):
    """The address of the function an object file's bytes define, linked into the engine;
    None when the bytes are not a whole object file of this version or the code imports
    a symbol this process cannot give it (it is compiled again then)."""
    unpacked = unpack(data)
    if unpacked is None:
        return None
    symbol, imports, code = unpacked
    engine = _jit()
    if any(ll.address_of_symbol(name) is None for name in imports):
        return None
    engine.add_object_file(ll.ObjectFileRef.from_data(code))
    engine.finalize_object()
    return engine.get_function_address(symbol) or None


def _read(paths):
    """The bytes of the first of `paths` that exists, or None."""
    for path in paths:
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            pass
    return None


def functions(prefix, source, names, compile_, directory=None, before_compiling=None):
    """The functions `names` that `source` compiles to, as Compiled: linked from their
    object files in `directory` (default: the cache directory, or a read-only configured
    one, _cache.read_dirs), else compiled (with `before_compiling()` called first), by
    ``compile_()`` (numba CFuncs, in the order of `names`), and written to `directory`
    (default: the cache directory); None if they are not there and `compile_` is None.  `prefix` and the digest of `source` name the files,
    as they name _cache.load_module's modules."""
    directories = [directory] if directory else _cache.read_dirs()
    directory = directories[0]
    _jit()  # the runtime's symbols, which compiling needs as much as linking
    machine_digest = hashlib.sha256(repr(machine()).encode()).hexdigest()[:12]
    stem = f"celu_numba_{prefix}_{_cache.digest(source)}"
    files = [f"{stem}.{name}-{machine_digest}.o" for name in names]
    with _cache.lock:
        found = []
        for file in files:
            if file in _functions:
                if not any(os.path.exists(os.path.join(d, file)) for d in directories):
                    _cache.write(os.path.join(directory, file), _functions[file][1])
                found.append(_functions[file][0])
                continue
            data = _read(os.path.join(d, file) for d in directories)
            address = None if data is None else _link(data)
            if address is None:
                break
            _functions[file] = (Compiled(address, True), data)
            found.append(_functions[file][0])
        if len(found) == len(files):
            return found
        if compile_ is None:
            return None
        if before_compiling is not None:
            before_compiling()
        compiled = compile_()
        _alive.extend(compiled)
        for file, cfunc in zip(files, compiled):
            data = _object_file(cfunc._library, cfunc.native_name)
            _cache.write(os.path.join(directory, file), data)
            _functions[file] = (Compiled(cfunc.address, False), data)
        return [_functions[file][0] for file in files]
