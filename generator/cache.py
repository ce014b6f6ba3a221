"""What the last build made, so an unchanged input is not rendered again.

PDFs are stored under ``.esafety-cache/pdf/`` (other downloads, such as the Word copy,
under ``files/``) by a key that covers everything that can change their bytes (the print
HTML, templates, fonts, WeasyPrint's version). For the site, a digest of the whole
generated project (pages, settings, PDFs) is kept per site folder: if it matches, the site
is already what this build would make.

The cache sits in the school's folder, which the school controls (it may be committed, or
copied from anyone). So every entry is sealed with an HMAC under a secret kept in the
user's cache folder: an entry the school wrote or edited is a miss, never published.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from functools import cache
from pathlib import Path

from .render import RenderedPdf

CACHE_DIR = ".esafety-cache"


def user_cache_dir() -> Path:
    """The user's cache folder for what any school's build can reuse (compiled
    templates), as opposed to each school's own ``CACHE_DIR``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "esafety-pack"


@cache
def _secret() -> bytes:
    """This user's key for sealing cache entries (made once; a process of its own when the
    user's cache cannot be written, so nothing is reused across runs then)."""
    path = user_cache_dir() / "cache-secret"
    try:
        return _read_secret(path)
    except (OSError, ValueError):
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
        return _read_secret(path)
    except (OSError, ValueError):  # another build made it first, or no cache to write
        try:
            return _read_secret(path)
        except (OSError, ValueError):
            return secrets.token_bytes(32)


def _read_secret(path: Path) -> bytes:
    secret = path.read_bytes()
    if len(secret) != 32:
        raise ValueError("not a secret of ours")
    return secret


def seal(*parts: str | bytes) -> str:
    """The HMAC of ``parts`` under this user's secret: only our own builds can make it."""
    mac = hmac.new(_secret(), digestmod=hashlib.sha256)
    for part in parts:
        mac.update(part.encode("utf-8") if isinstance(part, str) else part)
        mac.update(b"\0")
    return mac.hexdigest()


def sealed(expected: object, *parts: str | bytes) -> bool:
    return isinstance(expected, str) and hmac.compare_digest(expected, seal(*parts))


def school_cache_dir(config_path: Path) -> Path:
    """Where a school's build cache lives: ``CACHE_DIR`` beside its config, or, when that
    folder cannot be written (a read-only checkout), a folder of the user's cache named
    after the config's absolute path (never shared with another school)."""
    config = config_path.resolve()
    beside = config.parent / CACHE_DIR
    writable = beside if beside.is_dir() else config.parent
    if os.access(writable, os.W_OK) and not beside.is_symlink():  # a link could lead out
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
            or type(meta.get("pages")) is not int
            or not isinstance(meta.get("html", ""), str)
            or type(meta.get("scale", 1.0)) is not float
            or not sealed(meta.get("seal"), key, data, _pdf_facts(meta))
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
        meta["seal"] = seal(key, pdf.data, _pdf_facts(meta))
        write_atomic(folder / f"{key}.json", json.dumps(meta).encode("utf-8"))

    # ------------------------------------------------------------ other downloads
    def file(self, filename: str, key: str) -> bytes | None:
        """A download made by an earlier build from the same input (e.g. the Word copy)."""
        path = self.folder / "files" / f"{key}{Path(filename).suffix}"
        try:
            data = path.read_bytes()
            sha = path.with_suffix(".seal").read_text(encoding="utf-8")
        except OSError:
            return None
        return data if sealed(sha, key, data) else None

    def store_file(self, filename: str, key: str, data: bytes) -> None:
        folder = self.folder / "files"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{key}{Path(filename).suffix}"
        write_atomic(path, data)
        write_atomic(path.with_suffix(".seal"), seal(key, data).encode())

    # ------------------------------------------------------------ the site
    def site_key(self, site_dir: Path) -> str | None:
        entry = self._sites().get(str(site_dir))
        if not isinstance(entry, dict) or not isinstance(entry.get("input"), str):
            return None
        key, tree = entry["input"], tree_digest(site_dir)
        if not sealed(entry.get("seal"), str(site_dir), key, tree):
            return None  # the site folder was changed since our build: rebuild it
        return key

    def _sites(self) -> dict[str, object]:
        try:
            sites = json.loads((self.folder / "sites.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return sites if isinstance(sites, dict) else {}

    def remember_site(self, site_dir: Path, input_key: str) -> None:
        path = self.folder / "sites.json"
        sites = self._sites()
        tree = tree_digest(site_dir)
        sites[str(site_dir)] = {"input": input_key, "seal": seal(str(site_dir), input_key, tree)}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return
        write_atomic(path, json.dumps(sites, indent=1, sort_keys=True).encode("utf-8"))


def _pdf_facts(meta: dict[str, object]) -> str:
    return json.dumps(
        [meta.get("file"), meta.get("pages"), meta.get("html", ""), meta.get("scale", 1.0)]
    )


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
