"""What the last build made, so an unchanged input is not rendered again.

PDFs are stored under ``.esafety-cache/pdf/`` (other downloads, such as the Word copy,
under ``files/``) by a key that covers everything that can change their bytes (the print
HTML, templates, fonts, WeasyPrint's version). For the site, a digest of the whole
generated project (pages, settings, PDFs) is kept per site folder: if it matches, the site
is already what this build would make.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .render import RenderedPdf

CACHE_DIR = ".esafety-cache"


def user_cache_dir() -> Path:
    """The user's cache folder for what any school's build can reuse (compiled
    templates), as opposed to each school's own ``CACHE_DIR``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "esafety-pack"


def school_cache_dir(config_path: Path) -> Path:
    """Where a school's build cache lives: ``CACHE_DIR`` beside its config, or, when that
    folder cannot be written (a read-only checkout), a folder of the user's cache named
    after the config's absolute path (never shared with another school)."""
    config = config_path.resolve()
    beside = config.parent / CACHE_DIR
    writable = beside if beside.is_dir() else config.parent
    if os.access(writable, os.W_OK):
        return beside
    key = hashlib.sha256(str(config).encode("utf-8")).hexdigest()[:32]
    return user_cache_dir() / "schools" / key


class BuildCache:
    def __init__(self, folder: Path):
        self.folder = folder

    # ------------------------------------------------------------ PDFs
    def pdf(self, filename: str, key: str) -> RenderedPdf | None:
        data_path = self.folder / "pdf" / f"{key}.pdf"
        meta_path = data_path.with_suffix(".json")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            data = data_path.read_bytes()
        except (OSError, ValueError):
            return None
        if (  # an entry of the wrong shape is a miss, never an error
            not isinstance(meta, dict)
            or hashlib.sha256(data).hexdigest() != meta.get("sha256")
            or type(meta.get("pages")) is not int
            or not isinstance(meta.get("html", ""), str)
            or type(meta.get("scale", 1.0)) is not float
        ):
            return None
        return RenderedPdf(
            filename, data, meta["pages"], (), meta.get("html", ""), meta.get("scale", 1.0)
        )

    def store_pdf(self, pdf: RenderedPdf, key: str) -> None:
        folder = self.folder / "pdf"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return  # a cache: the next build renders it again
        write_atomic(folder / f"{key}.pdf", pdf.data)
        meta = {
            "file": pdf.filename,
            "pages": pdf.pages,
            "sha256": hashlib.sha256(pdf.data).hexdigest(),
            "html": pdf.html,
            "scale": pdf.scale,
        }
        write_atomic(folder / f"{key}.json", json.dumps(meta).encode("utf-8"))

    # ------------------------------------------------------------ other downloads
    def file(self, filename: str, key: str) -> bytes | None:
        """A download made by an earlier build from the same input (e.g. the Word copy)."""
        path = self.folder / "files" / f"{key}{Path(filename).suffix}"
        try:
            data = path.read_bytes()
            sha = path.with_suffix(".sha256").read_text(encoding="utf-8")
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == sha else None

    def store_file(self, filename: str, key: str, data: bytes) -> None:
        folder = self.folder / "files"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key}{Path(filename).suffix}"
        write_atomic(path, data)
        write_atomic(path.with_suffix(".sha256"), hashlib.sha256(data).hexdigest().encode())

    # ------------------------------------------------------------ the site
    def site_key(self, site_dir: Path) -> str | None:
        entry = self._sites().get(str(site_dir))
        if not isinstance(entry, dict) or entry.get("tree") != tree_digest(site_dir):
            return None  # the site folder was changed by hand since: rebuild it
        key = entry.get("input")
        return key if isinstance(key, str) else None

    def _sites(self) -> dict[str, object]:
        try:
            sites = json.loads((self.folder / "sites.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return sites if isinstance(sites, dict) else {}

    def remember_site(self, site_dir: Path, input_key: str) -> None:
        path = self.folder / "sites.json"
        sites = self._sites()
        sites[str(site_dir)] = {"input": input_key, "tree": tree_digest(site_dir)}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return
        write_atomic(path, json.dumps(sites, indent=1, sort_keys=True).encode("utf-8"))


def tree_digest(folder: Path) -> str:
    """Digest of every file's relative path and bytes under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` so that a reader sees the old bytes or the new, never half (a cache
    that cannot be written is no error: the next build makes it again)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
