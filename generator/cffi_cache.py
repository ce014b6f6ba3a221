"""WeasyPrint's C declarations, parsed once per machine rather than at every import.

WeasyPrint declares the Pango, HarfBuzz and fontconfig functions it calls in one long C
source, which cffi parses with pycparser every time WeasyPrint is imported: a third of
the PDF server's start (0.3 s of 0.8 s), and the server's start is when a build's first
PDF can begin. cffi can write those declarations out as a module of ready-made type
tables ("out-of-line ABI mode", the same types and functions, loaded in milliseconds).

The first import on a machine is plain; a thread then writes that module to the user's
cache folder, named by a hash of WeasyPrint's declaring file and cffi's version, and the
next imports use it. Anything unexpected (another WeasyPrint, an unreadable or stale
file, a cache folder that cannot be written) means the plain import, as before. Only the
PDF server imports this way; every PDF is byte for byte the same (tests compare).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .cache import user_cache_dir, write_atomic

DECLARING_MODULE = "weasyprint.text.ffi"
DECLARING_FILE = "text/ffi.py"
READY_CLASS = "_ReadyFFI"  # the name the written module calls its FFI class by
SOURCE_HASH = "# cdef sha256: "


def import_weasyprint(cache_dir: Path | None = None) -> bool:
    """Import WeasyPrint, its declarations from ``cache_dir`` (default: the user's cache
    folder) when they are there. False if they were not (see ``remember_declarations``)."""
    if "weasyprint" in sys.modules:
        return declarations_loaded()
    ready = _ready_module(cache_dir or user_cache_dir())
    if ready is not None and ready.is_file():
        try:
            with _declarations_from(ready):
                import weasyprint  # noqa: F401
            return True
        except Exception:  # noqa: BLE001 (whatever went wrong: the plain import, below)
            _forget_weasyprint()
    import weasyprint  # noqa: F401

    return False


def remember_declarations(cache_dir: Path | None = None) -> threading.Thread | None:
    """Write the declarations of the WeasyPrint imported here for the next import (in
    place of a file that could not be used), in a thread: start it after the last fork,
    so no forked child inherits it mid-write. None if there is nothing to write."""
    if DECLARING_MODULE not in sys.modules or declarations_loaded():
        return None
    ready = _ready_module(cache_dir or user_cache_dir())
    if ready is None or not _writable(ready.parent):  # else every build would parse twice
        return None
    thread = threading.Thread(target=_write_ready_module, args=(ready,), daemon=True)
    thread.start()
    return thread


def declarations_loaded() -> bool:
    """Whether the WeasyPrint in this process has its declarations from the cache."""
    module = sys.modules.get(DECLARING_MODULE)
    return type(getattr(module, "ffi", None)).__name__ == READY_CLASS


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def _ready_module(folder: Path) -> Path | None:
    """Where the declarations of the installed WeasyPrint go (None: cannot tell)."""
    try:
        import cffi

        spec = importlib.util.find_spec("weasyprint")  # a submodule's would import it
        if spec is None or spec.origin is None:
            return None
        digest = hashlib.sha256((Path(spec.origin).parent / DECLARING_FILE).read_bytes())
    except (ImportError, OSError, ValueError):
        return None
    digest.update(f"cffi {cffi.__version__} {sys.implementation.cache_tag}".encode())
    return folder / f"weasyprint-ffi-{digest.hexdigest()[:24]}.py"


@contextlib.contextmanager
def _declarations_from(ready: Path) -> Iterator[None]:
    """While WeasyPrint imports, its ``cffi.FFI()`` gets the ready-made declarations."""
    import _cffi_backend
    import cffi

    text = ready.read_text(encoding="utf-8")
    first, _, _ = text.partition("\n")
    if not first.startswith(SOURCE_HASH):
        raise ValueError(f"{ready}: not a declarations module")
    expected = first.removeprefix(SOURCE_HASH)
    code = compile(text, str(ready), "exec")

    class _ReadyFFI(_cffi_backend.FFI):  # type: ignore[misc,name-defined]
        def cdef(self, csource: str, *args: Any, **kwargs: Any) -> None:
            """Already done; only checks that the source is the one written out."""
            if args or kwargs or hashlib.sha256(csource.encode()).hexdigest() != expected:
                raise ImportError("WeasyPrint declares something else now")

    plain = cffi.FFI

    def ffi_for(*args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__")
        if caller != DECLARING_MODULE or args or kwargs:
            return plain(*args, **kwargs)
        namespace: dict[str, Any] = {READY_CLASS: _ReadyFFI}
        exec(code, namespace)  # noqa: S102 (our own file, written by cffi, see below)
        return namespace["ffi"]

    cffi.FFI = ffi_for
    try:
        yield
    finally:
        cffi.FFI = plain


def _write_ready_module(ready: Path) -> None:
    """cffi's out-of-line module for the declarations WeasyPrint just parsed, made to
    build its FFI as ``_ReadyFFI`` (which ``_declarations_from`` supplies)."""
    with contextlib.suppress(Exception):  # a cache: without it, imports are plain
        import cffi
        from cffi.recompiler import make_py_source

        sources = getattr(sys.modules[DECLARING_MODULE].ffi, "_cdefsources", None)
        if not (isinstance(sources, list) and len(sources) == 1 and isinstance(sources[0], str)):
            return
        ffi = cffi.FFI()
        ffi.cdef(sources[0])
        written = io.StringIO()
        make_py_source(ffi, "weasyprint_declarations", written)
        module = written.getvalue()
        if module.count("_cffi_backend.FFI(") != 1:
            return
        digest = hashlib.sha256(sources[0].encode()).hexdigest()
        module = module.replace("_cffi_backend.FFI(", f"{READY_CLASS}(")
        module = f"{SOURCE_HASH}{digest}\n{module}"
        write_atomic(ready, module.encode("utf-8"))


def _forget_weasyprint() -> None:
    """Drop a half-done import, so the plain one starts afresh."""
    for name in list(sys.modules):
        if name == "weasyprint" or name.startswith("weasyprint."):
            del sys.modules[name]
