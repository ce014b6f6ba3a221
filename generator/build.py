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
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .compose import Pack, compose
from .config import Config, load_config
from .errors import BuildError, UsageError
from .pdf import RenderedPdf, render_pdf
from .site import run_mkdocs, write_project

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    site_dir: Path
    pages: int
    pdfs: tuple[RenderedPdf, ...]


def build(config_path: Path, site_dir: Path | None = None) -> BuildResult:
    """Build one school's pack from ``config_path`` into ``site_dir`` (default: ./site)."""
    config_path = Path(config_path)
    if not config_path.is_file():
        raise UsageError(f"{config_path}: no such config file")
    project_dir = config_path.resolve().parent
    config = load_config(config_path, project_dir)
    site_dir = Path(site_dir) if site_dir else project_dir / "site"
    pack = compose(config, project_dir)
    with reproducible_dates(config):
        return render_and_publish(pack, site_dir)


def render_and_publish(pack: Pack, site_dir: Path) -> BuildResult:
    site_dir = site_dir.resolve()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".esafety-build-", dir=site_dir.parent) as tmp:
        project = Path(tmp) / "project"
        config_path = write_project(pack, project)
        pdfs = render_pdfs(pack)
        write_downloads(pack, pdfs, project / "docs" / "downloads")
        staged = run_mkdocs(config_path)
        publish(staged, site_dir)
    log.info("built %d pages and %d PDFs into %s", len(pack.pages), len(pdfs), site_dir)
    return BuildResult(site_dir, len(pack.pages), tuple(pdfs))


def render_pdfs(pack: Pack) -> list[RenderedPdf]:
    rendered = [render_pdf(pack, doc) for doc in pack.prints]
    problems = [f"{r.filename}: {w}" for r in rendered for w in r.warnings]
    if problems:
        raise BuildError("WeasyPrint: " + "; ".join(problems))
    return rendered


def write_downloads(pack: Pack, pdfs: list[RenderedPdf], folder: Path) -> None:
    """The PDFs and manifest.json go into docs/ so MkDocs checks every link to them."""
    folder.mkdir(parents=True, exist_ok=True)
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
