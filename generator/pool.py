"""Rendering PDFs: from the cache when nothing changed, else by the PDF workers.

Each school's PDFs go to the workers (``workers.py``) as ``PdfTask``s (their finished
print HTML) as soon as they are composed, the policy first (it takes longest, so it must
not be left till last); the caller gets a future per PDF, so it can compose the rest and
build the web pages while they render. With one worker, or where
processes cannot be forked, PDFs are rendered in this process instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass, field

from .cache import BuildCache
from .compose import Pack, PrintDoc
from .config import Config
from .errors import BuildError
from .pdf import PrintJob, source_date_epoch
from .render import RenderedPdf, render_task, source_date
from .workers import start_workers


@dataclass
class SchoolPdfs:
    """One school's PDFs: finished ones, and futures for those being rendered."""

    pack: Pack
    cache: BuildCache | None
    keys: dict[str, str] = field(default_factory=dict)
    done: dict[str, RenderedPdf] = field(default_factory=dict)
    pending: dict[str, Future[RenderedPdf]] = field(default_factory=dict)
    workers: int = 1
    alike_follow: bool = False  # other schools' copies of these PDFs come next

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
            pdf = future.result()
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

    def begin(self, pack: Pack, cache: BuildCache | None, alike_follow: bool = False) -> SchoolPdfs:
        """A handle for one school's PDFs, none of them started yet (see ``add``);
        ``alike_follow``: more schools come after this one."""
        return SchoolPdfs(pack, cache, workers=self.workers, alike_follow=alike_follow)

    def add(self, pdfs: SchoolPdfs, docs: list[PrintDoc]) -> None:
        """Begin rendering those of ``docs`` that are not in the school's cache."""
        for doc in sorted(docs, key=_weight, reverse=True):
            job = PrintJob(pdfs.pack, doc)
            key = pdfs.keys[doc.filename] = job.cache_key()
            hit = pdfs.cache.pdf(doc.filename, key) if pdfs.cache else None
            if hit:
                pdfs.done[doc.filename] = hit
            else:
                pdfs.pending[doc.filename] = self._render(job, pdfs.alike_follow)

    def _render(self, job: PrintJob, alike_follow: bool) -> Future[RenderedPdf]:
        server = start_workers(self.workers) if self.workers > 1 else None
        if server is not None:
            return server.submit(job.task(alike_follow))
        future: Future[RenderedPdf] = Future()  # one process: render here, now
        try:
            future.set_result(render_task(job.task(alike_follow)))
        except Exception as exc:  # reported by that school's result(), not here
            future.set_exception(exc)
        return future


def _weight(doc: PrintDoc) -> int:
    return 0 if doc.one_page else (doc.max_pages or 50)


@contextmanager
def reproducible_dates(config: Config) -> Iterator[None]:
    """Same input, same bytes: every tool that stamps a date uses the approval date."""
    with source_date(source_date_epoch(config)):
        yield
