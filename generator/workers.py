"""The PDF workers: one process that imports WeasyPrint, and the workers forked from it.

Importing WeasyPrint costs most of a second, so it is done once, and early: the build
forks a server process first thing (``start_workers``), which imports WeasyPrint while
the build loads and composes its schools, then forks the rendering workers with
WeasyPrint already in memory. Forking (not spawning) means nothing is re-imported and a
script that calls ``build()`` needs no ``if __name__ == "__main__"`` guard.

The build sends each PDF as a ``PdfTask`` down a pipe and gets a future back; a thread
here receives the finished PDFs and settles the futures. The server lives as long as the
process that started it, so one pool of workers serves every build it runs (many schools,
or every rebuild of ``esafety serve``). If the server or a worker dies, the PDFs still
waiting fail with a clear error and the next build starts a new server.

This module imports nothing heavy of ours, so the command line can call it at once.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import itertools
import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any

from .errors import BuildError
from .render import PdfTask, RenderedPdf, collect_when_the_next_document_starts

_server: PdfServer | None = None
_server_lock = threading.Lock()


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def start_workers(workers: int | None = None) -> PdfServer | None:
    """The running server, started now if there is none (None where fork is missing)."""
    global _server
    if not can_fork():
        return None
    with _server_lock:
        if _server is None or not _server.alive():
            _server = PdfServer(workers or os.cpu_count() or 1)
        return _server


class PdfServer:
    """Main-process side: sends tasks to the server process and settles their futures."""

    def __init__(self, workers: int):
        self.workers = workers
        context = multiprocessing.get_context("fork")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child_end, self._conn, workers), name="esafety-pdf-server"
        )
        self._process.start()
        child_end.close()
        self._ids = itertools.count()
        self._send_lock = threading.Lock()
        self._pending: dict[int, tuple[str, Future[RenderedPdf]]] = {}
        self._submitted = 0
        self._stopped = False
        threading.Thread(target=self._receive, name="esafety-pdf-results", daemon=True).start()
        atexit.register(self.stop)

    def alive(self) -> bool:
        return not self._stopped and self._process.is_alive()

    def submit(self, task: PdfTask) -> Future[RenderedPdf]:
        future: Future[RenderedPdf] = Future()
        with self._send_lock:
            task_id = next(self._ids)
            self._submitted += 1
            self._pending[task_id] = task.filename, future
            try:
                self._conn.send((task_id, task))
            except (OSError, ValueError):
                self._pending.pop(task_id, None)
                future.set_exception(_stopped_error(task.filename))
        return future

    def _receive(self) -> None:
        while True:
            try:
                task_id, ok, value = self._conn.recv()
            except (EOFError, OSError):
                break
            _filename, future = self._pending.pop(task_id, ("", None))
            if future is None or future.cancelled():  # abandoned: nobody is waiting
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self._stopped = True
        with self._send_lock:
            waiting, self._pending = self._pending, {}
        for filename, future in waiting.values():
            if not future.cancelled():
                future.set_exception(_stopped_error(filename))

    def stop(self) -> None:
        """Ask the server to finish and wait for it (called at exit). A server that nobody
        is waiting for has nothing to finish and is ended at once: one never given a PDF
        (the config was wrong, say), or one whose PDFs were all abandoned (the school
        failed while it was being composed)."""
        with self._send_lock:
            waited_for = [f for _name, f in self._pending.values() if not f.cancelled()]
        unwanted = self._submitted == 0 or (self._pending and not waited_for)
        if self._process.is_alive() and unwanted:
            self._process.kill()
            self._process.join()
        elif self._process.is_alive():
            try:
                with self._send_lock:
                    self._conn.send(None)
            except (OSError, ValueError):
                pass
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._stopped = True


def _stopped_error(filename: str) -> BuildError:
    return BuildError(
        f"{filename}: the PDF workers stopped unexpectedly (out of memory?); run the build again"
    )


# ------------------------------------------------------------------ in the server process


def _serve(conn: Connection, parent_end: Connection, workers: int) -> None:
    """Import WeasyPrint, fork the workers, and pass tasks to them until told to stop."""
    from concurrent.futures import BrokenExecutor, ProcessPoolExecutor

    parent_end.close()
    _close_inherited_files(keep=conn.fileno())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # not news to a user
    from . import cffi_cache, speedups

    cffi_cache.import_weasyprint()  # the point of this process

    speedups.install()  # C types parsed here once, not in every worker
    from .render import prepare_for_workers, render_task

    prepare_for_workers()
    gc.collect()
    gc.freeze()  # what is loaded now is never collected: the workers' collections skip it

    send_lock = threading.Lock()

    def reply(task_id: int, ok: bool, value: Any) -> None:
        with send_lock, contextlib.suppress(OSError, ValueError):  # the build has gone
            conn.send((task_id, ok, value))

    def settle(task_id: int, filename: str, future: Future[RenderedPdf]) -> None:
        if future.cancelled():  # the build stopped before it began: no one is waiting
            return
        error = future.exception()
        if error is None:
            reply(task_id, True, future.result())
        elif isinstance(error, BrokenExecutor):
            reply(task_id, False, _stopped_error(filename))
        elif isinstance(error, BuildError):
            reply(task_id, False, error)
        else:  # a bug: say what it was, in one line
            reply(task_id, False, BuildError(f"{filename}: {type(error).__name__}: {error}"))

    context = multiprocessing.get_context("fork")
    remembering: threading.Thread | None = None
    first = True
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)
    ) as pool:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            if message is None:
                break
            task_id, task = message
            try:
                future = pool.submit(render_task, task)
            except BrokenExecutor:  # a worker died: stop, and the next build starts afresh
                reply(task_id, False, _stopped_error(task.filename))
                break
            future.add_done_callback(lambda f, i=task_id, name=task.filename: settle(i, name, f))
            if first:  # the workers are forked now: no child can inherit the thread
                first, remembering = False, cffi_cache.remember_declarations()
        pool.shutdown(cancel_futures=True)
    conn.close()
    if remembering is not None:
        remembering.join(timeout=10)


def _start_worker(server: int) -> None:
    _die_with_parent(server)
    collect_when_the_next_document_starts()


def _die_with_parent(server: int) -> None:
    """On Linux, a worker is killed with its server, so none is left behind holding the
    terminal if the server is killed."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != server:  # the server died before we asked
        os._exit(1)


def _close_inherited_files(keep: int) -> None:
    """Close every file the fork copied from the build's process but the pipe and the
    standard streams. Holding them open would, for one, keep a pipe's other end from ever
    seeing it close (a browser driver waiting for its input to end would wait forever)."""
    try:  # Linux: only the files that are open, not every possible number
        open_files = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        os.closerange(3, keep)
        os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
        return
    for fd in open_files:
        if fd > 2 and fd != keep:
            with contextlib.suppress(OSError):  # e.g. the listing's own, already closed
                os.close(fd)
