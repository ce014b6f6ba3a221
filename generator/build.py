"""The pipeline, top to bottom: load -> compose -> PDFs -> site -> publish in one move.

Nothing is written to the school's ``site/`` until every page and PDF has been rendered
and checked in a staging folder beside it; then the staging folder replaces ``site/``
with one rename. A failed build leaves the previous site exactly as it was.
"""

from __future__ import annotations

import calendar
import ctypes
import ctypes.util
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .cache import CACHE_DIR, BuildCache, tree_digest
from .compose import Pack, PrintDoc, compose
from .config import Config, load_config
from .errors import BuildError, UsageError
from .pdf import PrintJob, RenderedPdf, render_pdf
from .site import engine_versions, run_engine, write_project

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    site_dir: Path
    pages: int
    pdfs: tuple[RenderedPdf, ...]


def build(config_path: Path, site_dir: Path | None = None, *, use_cache: bool = True,
          workers: int | None = None, engine: str = "mkdocs") -> BuildResult:
    """Build one school's pack from ``config_path`` into ``site_dir`` (default: ./site)."""
    config_path = Path(config_path)
    if not config_path.is_file():
        raise UsageError(f"{config_path}: no such config file")
    project_dir = config_path.resolve().parent
    config = load_config(config_path, project_dir)
    site_dir = Path(site_dir) if site_dir else project_dir / "site"
    pack = compose(config, project_dir)
    cache = BuildCache(project_dir / CACHE_DIR) if use_cache else None
    with reproducible_dates(config):
        return render_and_publish(pack, site_dir, cache, workers, engine)


def render_and_publish(pack: Pack, site_dir: Path, cache: BuildCache | None = None,
                       workers: int | None = None, engine: str = "mkdocs") -> BuildResult:
    site_dir = site_dir.resolve()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".esafety-build-", dir=site_dir.parent) as tmp:
        project = Path(tmp) / "project"
        config_path = write_project(pack, project)
        pdfs = render_pdfs(pack, cache, workers)
        write_downloads(pack, pdfs, project / "docs" / "downloads")
        site_key = tree_digest(project) + ":" + engine_versions(engine)
        if cache and site_dir.is_dir() and cache.site_key(site_dir) == site_key:
            log.info("nothing changed; %s left as it is", site_dir)
        else:
            staged = run_engine(engine, config_path)
            publish(staged, site_dir)
            if cache:
                cache.remember_site(site_dir, site_key)
    log.info("built %d pages and %d PDFs into %s", len(pack.pages), len(pdfs), site_dir)
    return BuildResult(site_dir, len(pack.pages), tuple(pdfs))


def render_pdfs(pack: Pack, cache: BuildCache | None = None,
                workers: int | None = None) -> list[RenderedPdf]:
    """Every PDF of the pack: from the cache when its inputs are unchanged, else rendered
    in a pool of worker processes (WeasyPrint is imported once per worker)."""
    keys = {doc.filename: PrintJob(pack, doc).cache_key() for doc in pack.prints}
    done = {doc.filename: hit for doc in pack.prints
            if cache and (hit := cache.pdf(doc.filename, keys[doc.filename]))}
    missing = [doc for doc in pack.prints if doc.filename not in done]
    for pdf in render_in_pool(pack, missing, workers):
        done[pdf.filename] = pdf
        if cache and not pdf.warnings:
            cache.store_pdf(pdf, keys[pdf.filename])
    rendered = [done[doc.filename] for doc in pack.prints]
    problems = [f"{r.filename}: {w}" for r in rendered for w in r.warnings]
    if problems:
        raise BuildError("WeasyPrint: " + "; ".join(problems))
    return rendered


_POOL_PACK: Pack | None = None  # inherited by forked workers; never pickled


def render_in_pool(pack: Pack, docs: list[PrintDoc], workers: int | None) -> list[RenderedPdf]:
    count = min(len(docs), workers or os.cpu_count() or 1)
    if count <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [render_pdf(pack, doc) for doc in docs]
    global _POOL_PACK
    _POOL_PACK = pack
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(count, mp_context=context, initializer=_warm_worker) as pool:
            return list(pool.map(_render_in_worker, docs))
    finally:
        _POOL_PACK = None


def _warm_worker() -> None:
    import weasyprint  # noqa: F401  (once per worker, not once per PDF)


def _render_in_worker(doc: PrintDoc) -> RenderedPdf:
    assert _POOL_PACK is not None
    return render_pdf(_POOL_PACK, doc)


def write_downloads(pack: Pack, pdfs: list[RenderedPdf], folder: Path) -> None:
    """The PDFs and manifest.json go into docs/ so MkDocs checks every link to them."""
    folder.mkdir(parents=True, exist_ok=True)
    for extra in pack.files:
        (folder / extra.filename).write_bytes(extra.data)
    by_name = {doc.filename: doc for doc in pack.prints}
    entries = []
    for pdf in pdfs:
        (folder / pdf.filename).write_bytes(pdf.data)
        doc = by_name[pdf.filename]
        entries.append({
            "file": pdf.filename,
            "title": doc.title,
            "audience": doc.audience,
            "pages": pdf.pages,
            "bytes": len(pdf.data),
            "sha256": hashlib.sha256(pdf.data).hexdigest(),
        })
    manifest = {
        "school": pack.config.school.name,
        "version": pack.config.review.version,
        "approved_on": pack.config.review.approved_on.isoformat(),
        "next_review": pack.config.next_review.isoformat(),
        "documents": entries,
    }
    (folder / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


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


def publish(staged: Path, site_dir: Path) -> None:
    """Put ``staged`` in place of ``site_dir`` in one move (atomic swap where Linux allows)."""
    if site_dir.exists() and not site_dir.is_dir():
        raise BuildError(f"{site_dir}: exists and is not a folder")
    if site_dir.is_dir() and _swap(staged, site_dir):
        shutil.rmtree(staged)  # now holds the previous site
        return
    if site_dir.is_dir():
        old = site_dir.with_name(f".{site_dir.name}.old-{os.getpid()}")
        site_dir.rename(old)
        staged.rename(site_dir)
        shutil.rmtree(old)
    else:
        staged.rename(site_dir)


def _swap(a: Path, b: Path) -> bool:
    """Exchange two folders atomically with renameat2(RENAME_EXCHANGE); False if unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def load(config_path: Path) -> Config:
    """Validate only (for ``esafety check``)."""
    return load_config(config_path, Path(config_path).resolve().parent)
