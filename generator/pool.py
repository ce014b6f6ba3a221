"""Rendering PDFs: from the cache when nothing changed, else in a pool of worker processes.

One pool serves every school of a build. Workers are forked, so they inherit the composed
packs (nothing is pickled on the way in) and import WeasyPrint once each. The caller gets
a future per PDF and can build the web pages while the workers render.
"""

from __future__ import annotations

import calendar
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from .cache import BuildCache
from .compose import Pack, PrintDoc
from .config import Config
from .errors import BuildError
from .pdf import PrintJob, RenderedPdf, render_pdf

_PACKS: list[Pack] = []  # inherited by forked workers; set before the pool starts


@dataclass
class SchoolPdfs:
    """One school's PDFs: finished ones, and futures for those being rendered."""

    pack: Pack
    cache: BuildCache | None
    keys: dict[str, str]
    done: dict[str, RenderedPdf] = field(default_factory=dict)
    pending: dict[str, Future[RenderedPdf]] = field(default_factory=dict)

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
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def start(self, schools: list[tuple[Pack, BuildCache | None]]) -> list[SchoolPdfs]:
        """Begin rendering every school's missing PDFs; return a handle per school."""
        handles, missing = [], []
        for index, (pack, cache) in enumerate(schools):
            keys = {doc.filename: PrintJob(pack, doc).cache_key() for doc in pack.prints}
            handle = SchoolPdfs(pack, cache, keys)
            for doc in pack.prints:
                hit = cache.pdf(doc.filename, keys[doc.filename]) if cache else None
                if hit:
                    handle.done[doc.filename] = hit
                else:
                    missing.append((index, doc, handle))
            handles.append(handle)
        if missing:
            self._submit(schools, missing)
        return handles

    def _submit(
        self,
        schools: list[tuple[Pack, BuildCache | None]],
        missing: list[tuple[int, PrintDoc, SchoolPdfs]],
    ) -> None:
        count = min(len(missing), self.workers or os.cpu_count() or 1)
        if count <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            for index, doc, handle in missing:  # one process: render here, in order
                future: Future[RenderedPdf] = Future()
                try:
                    future.set_result(_render(schools[index][0], doc))
                except Exception as exc:  # reported by that school's result(), not here
                    future.set_exception(exc)
                handle.pending[doc.filename] = future
            return
        _PACKS[:] = [pack for pack, _cache in schools]
        self.pool = ProcessPoolExecutor(
            count, mp_context=multiprocessing.get_context("fork"), initializer=_warm_worker
        )
        # Longest documents first, so the policy does not start last.
        for index, doc, handle in sorted(missing, key=lambda m: -_weight(m[1])):
            handle.pending[doc.filename] = self.pool.submit(_render_in_worker, index, doc)

    def close(self) -> None:
        if self.pool:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
        _PACKS.clear()


def _weight(doc: PrintDoc) -> int:
    return 0 if doc.one_page else (doc.max_pages or 50)


def _warm_worker() -> None:
    import weasyprint  # noqa: F401  (once per worker, not once per PDF)


@contextmanager
def reproducible_dates(config: Config) -> Iterator[None]:
    """Same input, same bytes: every tool that stamps a date uses the approval date."""
    epoch = calendar.timegm(config.review.approved_on.timetuple())
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old


def _render(pack: Pack, doc: PrintDoc) -> RenderedPdf:
    with reproducible_dates(pack.config):
        return render_pdf(pack, doc)


def _render_in_worker(index: int, doc: PrintDoc) -> RenderedPdf:
    return _render(_PACKS[index], doc)
