"""Rendering PDFs: from the cache when nothing changed, else in a pool of processes.

The pool is the standard library's ``ProcessPoolExecutor``. Its processes are forked from
multiprocessing's fork server, which imports WeasyPrint once (most of a second), so each
worker starts with it in memory; the server starts in the background when a build begins
and imports while the school is composed. One pool serves every build of the process
(the schools of a trust, each rebuild of ``esafety serve``, a test session).

Each school's PDFs are submitted as soon as they are composed, the longest first (the
policy decides when a build ends); the caller gets a future per PDF, so it can compose the
rest and build the web pages while they render. With one worker, PDFs are rendered in
this process instead.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import BuildError
from .render import PdfTask, RenderedPdf, render_task, source_date, start_worker

if TYPE_CHECKING:  # `esafety build` imports this module first, to start the fork server
    from .cache import BuildCache  # before the slower imports the rest of the build needs
    from .compose import Pack, PrintDoc
    from .config import Config
    from .pdf import PrintJob

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_pool_started = threading.Event()  # the fork server is running (see _start)


def start_workers(workers: int) -> ProcessPoolExecutor:
    """The process's pool of PDF workers, started now (in the background) if there is none."""
    global _pool
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["weasyprint", "generator.render"])
            scratch = tempfile.mkdtemp(prefix="esafety-pdf-")
            _pool = ProcessPoolExecutor(
                workers, mp_context=context, initializer=start_worker, initargs=(scratch,)
            )
            atexit.register(_stop, _pool, scratch)
            _pool_started.clear()
            # Starting a worker waits for the fork server's imports: not on this thread.
            threading.Thread(target=_start, args=(_pool,), daemon=True).start()
        return _pool


def _start(pool: ProcessPoolExecutor) -> None:
    """Start the fork server and a first worker with Ctrl+C blocked: the fork server
    inherits this thread's blocked signals, and every worker the fork server's, so the
    SIGINT a terminal sends to the whole process group reaches only the main process,
    which stops the pool (a worker interrupted while it started printed tracebacks, and
    once left a build hanging)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pool.submit(os.getpid)
    finally:
        _pool_started.set()


def submit(workers: int, task: PdfTask) -> Future[RenderedPdf]:
    """Render ``task`` in the pool; a pool broken by a worker's death is replaced."""
    global _pool
    pool = start_workers(workers)
    _pool_started.wait()  # the fork server is started by _start, never by this thread
    try:
        return pool.submit(render_task, task)
    except BrokenProcessPool:
        with _pool_lock:
            if _pool is pool:
                _pool = None
        pool = start_workers(workers)
        _pool_started.wait()
        return pool.submit(render_task, task)


def _stop(pool: ProcessPoolExecutor, scratch: str) -> None:
    pool.shutdown(cancel_futures=True)
    shutil.rmtree(scratch, ignore_errors=True)


@dataclass
class SchoolPdfs:
    """One school's PDFs: finished ones, and futures for those being rendered."""

    pack: Pack
    cache: BuildCache | None
    keys: dict[str, str] = field(default_factory=dict)
    done: dict[str, RenderedPdf] = field(default_factory=dict)
    pending: dict[str, Future[RenderedPdf]] = field(default_factory=dict)
    workers: int = 1

    def wait_for_a_free_worker(self) -> None:
        """Wait until fewer of these PDFs are rendering than there are workers. Then a
        core is free for the web pages, and they do not slow the longest PDF down (the
        policy, which decides when the build ends)."""
        while True:
            running = [f for f in self.pending.values() if not f.done()]
            if len(running) < self.workers:
                return
            wait(running, return_when=FIRST_COMPLETED)

    def abandon(self) -> None:
        """Nobody will wait for these PDFs (the school failed after they were started)."""
        for future in self.pending.values():
            future.cancel()
        self.pending.clear()

    def finished(self) -> dict[str, RenderedPdf]:
        """The PDFs ready now (from the cache or already rendered), without waiting."""
        ready = dict(self.done)
        for name, future in self.pending.items():
            if future.done() and future.exception() is None:
                ready[name] = future.result()
        return ready

    def result(self) -> list[RenderedPdf]:
        """Every PDF in the pack's order, waiting for those still rendering."""
        for name, future in self.pending.items():
            try:
                pdf = future.result()
            except BrokenProcessPool:
                raise BuildError(f"{name}: the PDF worker stopped unexpectedly") from None
            self.done[name] = pdf
            if self.cache and not pdf.warnings:
                self.cache.store_pdf(pdf, self.keys[name])
        self.pending.clear()
        rendered = [self.done[doc.filename] for doc in self.pack.prints]
        problems = [f"{r.filename}: {w}" for r in rendered for w in r.warnings]
        if problems:
            raise BuildError("WeasyPrint: " + "; ".join(problems))
        return rendered


class PdfRenderer:
    """Looks PDFs up in each school's cache and renders the rest, in parallel."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1

    def begin(self, pack: Pack, cache: BuildCache | None) -> SchoolPdfs:
        """A handle for one school's PDFs, none of them started yet (see ``add``)."""
        return SchoolPdfs(pack, cache, workers=self.workers)

    def add(self, pdfs: SchoolPdfs, docs: list[PrintDoc]) -> None:
        """Begin rendering those of ``docs`` that are not in the school's cache."""
        for doc in sorted(docs, key=_weight, reverse=True):
            job = _print_job(pdfs.pack, doc)
            key = pdfs.keys[doc.filename] = job.cache_key()
            hit = pdfs.cache.pdf(doc.filename, key) if pdfs.cache else None
            if hit:
                pdfs.done[doc.filename] = hit
            else:
                pdfs.pending[doc.filename] = self._render(job)

    def _render(self, job: PrintJob) -> Future[RenderedPdf]:
        if self.workers > 1:
            return submit(self.workers, job.task())
        future: Future[RenderedPdf] = Future()  # one process: render here, now
        try:
            future.set_result(render_task(job.task()))
        except Exception as exc:  # reported by that school's result(), not here
            future.set_exception(exc)
        return future


def _print_job(pack: Pack, doc: PrintDoc) -> PrintJob:
    from .pdf import PrintJob

    return PrintJob(pack, doc)


def _weight(doc: PrintDoc) -> int:
    return 0 if doc.one_page else (doc.max_pages or 50)


@contextmanager
def reproducible_dates(config: Config) -> Iterator[None]:
    """Same input, same bytes: every tool that stamps a date uses the approval date."""
    from .pdf import source_date_epoch

    with source_date(source_date_epoch(config)):
        yield
