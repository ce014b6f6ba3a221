"""The pipeline, top to bottom: load -> compose -> PDFs -> site -> publish in one move.

Nothing is written to the school's ``site/`` until every page and PDF has been rendered
and checked in a staging folder beside it; then the staging folder replaces ``site/``
with one rename. A failed build leaves the previous site exactly as it was.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path

from .cache import CACHE_DIR, BuildCache, school_cache_dir, tree_digest, user_cache_dir
from .checks import made_up
from .compose import Pack, PrintDoc, compose
from .config import Config, load_config
from .defaults import CONFIG_NAMES, config_file, is_school_config
from .errors import BuildError, EsafetyError, UsageError, interrupted
from .markup import conversions_kept
from .pdf import small_posters
from .pool import PdfRenderer, SchoolPdfs, reproducible_dates, start_workers
from .render import RenderedPdf
from .site import NOT_FOUND, engine_versions, run_engine, write_project
from .word import word_copy
from .yamlfile import read_yaml

log = logging.getLogger(__name__)
# Schools of a batch composed and waiting to be published: enough PDFs queued to keep
# the workers busy while a school's pages are built.
SCHOOLS_AHEAD = 3


@dataclass(frozen=True)
class BuildResult:
    site_dir: Path
    pages: int
    pdfs: tuple[RenderedPdf, ...]


@dataclass(frozen=True)
class SchoolJob:
    """One school to build: its config and where its site goes."""

    config_path: Path
    site_dir: Path | None = None


@dataclass(frozen=True)
class SchoolOutcome:
    job: SchoolJob
    result: BuildResult | None = None
    error: EsafetyError | None = None


def build(
    config_path: Path,
    site_dir: Path | None = None,
    *,
    use_cache: bool = True,
    workers: int | None = None,
    engine: str = "mkdocs",
) -> BuildResult:
    """Build one school's pack from ``config_path`` into ``site_dir`` (default: ./site)."""
    (outcome,) = build_many(
        [SchoolJob(Path(config_path), site_dir)],
        use_cache=use_cache,
        workers=workers,
        engine=engine,
    )
    if outcome.error:
        raise outcome.error
    assert outcome.result is not None
    return outcome.result


def build_many(
    jobs: list[SchoolJob],
    *,
    use_cache: bool = True,
    workers: int | None = None,
    engine: str = "mkdocs",
) -> list[SchoolOutcome]:
    """Build several schools with one pool of PDF workers. Each school's PDFs start
    rendering as soon as it is composed; a school that fails is reported in its outcome
    and does not stop the others."""
    check_site_dirs(jobs)
    with ExitStack() as held:
        for job in jobs:
            held.enter_context(_site_lock(site_dir_of(job)))
        return _build_all(jobs, use_cache, workers, engine)


def _build_all(
    jobs: list[SchoolJob], use_cache: bool, workers: int | None, engine: str
) -> list[SchoolOutcome]:
    """Each school is composed while the schools before it render; at most
    ``SCHOOLS_AHEAD`` wait to be published. Composing every school first held every pack
    at once: 680 MB for 100 schools, now 500 (what still grows, about 1.2 MB a school, is
    each outcome's PDFs, kept for the caller)."""
    renderer = PdfRenderer(workers)
    if renderer.workers > 1:
        start_workers(renderer.workers)  # WeasyPrint loads while the schools are composed
    outcomes: dict[int, SchoolOutcome] = {}
    started: dict[int, tuple[Path, SchoolPdfs]] = {}

    def publish_oldest() -> None:
        i = next(iter(started))
        site_dir, pdfs = started.pop(i)
        try:
            result = render_and_publish(pdfs.pack, site_dir, pdfs, pdfs.cache, engine)
            outcomes[i] = SchoolOutcome(jobs[i], result=result)
        except Exception as exc:  # noqa: BLE001 (one school's failure never stops the rest)
            outcomes[i] = SchoolOutcome(jobs[i], error=_as_error(jobs[i], exc))

    for i, job in enumerate(jobs):
        try:
            with _conversions_kept(job, use_cache):
                started[i] = prepare(job, use_cache, renderer)
        except Exception as exc:  # noqa: BLE001
            outcomes[i] = SchoolOutcome(job, error=_as_error(job, exc))
        if len(started) > SCHOOLS_AHEAD:
            publish_oldest()
    while started:
        publish_oldest()
    return [outcomes[i] for i in range(len(jobs))]


def _as_error(job: SchoolJob, exc: Exception) -> EsafetyError:
    """A school's failure as one line naming the school (``-v`` shows the traceback);
    the tool's own errors are already one line."""
    if isinstance(exc, EsafetyError):
        return exc
    folder = job.config_path.resolve().parent
    error = BuildError(
        f"{folder}: internal error: {type(exc).__name__}: {str(exc)[:300]} "
        "(run with -v for details)"
    )
    error.__cause__ = exc  # -v prints its traceback
    return error


# Written into every site the tool builds: a folder that holds it is the tool's own.
SITE_MARKER = ".esafety-site"
# Folders of a school's project that a site may never be, or be inside of.
_PROJECT_FOLDERS = ("overrides", "reviews", "assets", CACHE_DIR)


def check_site_dirs(jobs: list[SchoolJob]) -> None:
    """Before anything is built: every school has its own site folder, and each one is a
    folder the tool may replace (new, empty or made by it, and no school's input)."""
    projects = [job.config_path.resolve().parent for job in jobs]
    seen: dict[Path, Path] = {}
    for job in jobs:
        given = Path(os.path.abspath(job.site_dir or job.config_path.parent / "site"))
        if given.is_symlink():  # a school's "site" link could lead to another's, or out
            raise UsageError(f"{given}: is a link, not a folder; remove it or choose another")
        site = site_dir_of(job)
        if site in seen:
            raise UsageError(
                f"{site}: two schools would be built into this one folder "
                f"({seen[site]} and {job.config_path}); give each its own --site-dir"
            )
        seen[site] = job.config_path
        _check_replaceable(site, projects)


@contextmanager
def _site_lock(site: Path) -> Iterator[None]:
    """Held while a site is built: a second build of the same site at the same time (two
    terminals, serve and build) is refused, or the one that finished last would publish
    whichever config it had read. The lock file is in the user's cache, never in the
    school's folder; the system frees it when the process ends, however it ends."""
    folder = user_cache_dir() / "locks"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(str(site.resolve()).encode()).hexdigest()[:32]
        lock = (folder / f"{name}.lock").open("w")
    except OSError:  # no cache folder to write: build unlocked, as before
        yield
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"{site}: another esafety build (or serve) is building this site now; "
                "run this again when it has finished"
            ) from None
        yield


def site_dir_of(job: SchoolJob) -> Path:
    project = job.config_path.resolve().parent
    return (Path(job.site_dir) if job.site_dir else project / "site").resolve()


def _check_replaceable(site: Path, projects: list[Path]) -> None:
    for project in projects:
        if project.is_relative_to(site):
            raise UsageError(
                f"{site}: holds a school's config ({project}); the site folder must be "
                "a folder of its own, e.g. site/"
            )
        for name in _PROJECT_FOLDERS:
            if site.is_relative_to(project / name):
                raise UsageError(f"{site}: is inside the school's {name}/ folder; choose another")
    if site.is_symlink() or (site.exists() and not site.is_dir()):
        raise UsageError(f"{site}: exists and is not a folder; choose another --site-dir")
    if site.is_dir() and not (site / SITE_MARKER).is_file() and any(site.iterdir()):
        raise UsageError(
            f"{site}: not empty and not a site esafety built (it has no {SITE_MARKER}); "
            "choose a new or empty folder"
        )


def remove_leftovers(parent: Path) -> None:
    """Staging folders of a build that was killed (its process is gone) are removed."""
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        owner = _staging_owner(entry.name)
        if owner is None or _alive(owner) or entry.is_symlink() or not entry.is_dir():
            continue
        # Only a folder this tool made and marked: a school's ".photos.old-2019" is theirs.
        if (entry / STAGING_MARKER).is_file() or (entry / SITE_MARKER).is_file():
            shutil.rmtree(entry, ignore_errors=True)


def _staging_owner(name: str) -> int | None:
    """The process id in a staging folder's name (.esafety-build-PID-xxxx, .site.old-PID)."""
    if name.startswith(STAGING_PREFIX):
        pid = name[len(STAGING_PREFIX) :].split("-", 1)[0]
        return int(pid) if pid.isdigit() else 0  # 0: an older version's folder, never alive
    old = re.fullmatch(r"\..+\.old-(\d+)", name)  # publish()'s previous site, mid-swap
    return int(old.group(1)) if old else None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


STAGING_PREFIX = ".esafety-build-"
STAGING_MARKER = ".esafety-staging"  # in every staging folder, so only ours are removed


def find_jobs(sources: list[Path], site_dir: Path | None = None) -> list[SchoolJob]:
    """Schools named by config files and folders. With several schools and a site folder,
    each school gets its own folder inside it (named after its config's folder or file)."""
    configs: list[Path] = []
    in_subfolders = False  # a trust's folder: each school in its own, even if one is left
    for source in sources:
        found = _configs_in(source) if source.is_dir() else [source]
        in_subfolders |= source.is_dir() and any(p.parent != source for p in found)
        configs += found
    if not configs:
        raise UsageError(f"{', '.join(map(str, sources))}: no school configs found")
    if len(configs) == 1 and not in_subfolders:
        return [SchoolJob(configs[0], site_dir)]
    for path in configs:
        if site_dir and _slug(path).casefold() == "index.html":  # the trust's index page
            raise UsageError(f"{path}: its pack would be built as index.html; rename it")
    return [
        SchoolJob(path, (site_dir / _slug(path)) if site_dir else _default_site(path))
        for path in configs
    ]


def _configs_in(folder: Path) -> list[Path]:
    """School configs in a folder; a file that another one extends is shared defaults."""
    candidates = sorted(
        [
            *[config_file(sub) for sub in folder.iterdir() if config_file(sub).is_file()],
            *folder.glob("*.yaml"),
            *folder.glob("*.yml"),
        ]
    )
    extended, schools = set(), set()
    for path in candidates:
        data = _peek(path)
        if is_school_config(path, data):
            schools.add(path)  # built (or reported) even if another wrongly extends it
        if isinstance(data, dict) and isinstance(data.get("extends"), str):
            with suppress(OSError, ValueError):
                extended.add((path.parent / data["extends"]).resolve())
    return [p for p in candidates if p in schools or p.resolve() not in extended]


def _peek(path: Path) -> object:
    """A file's data read with every limit of a config (None: unreadable, reported
    properly when the school is loaded)."""
    try:
        return read_yaml(path).data
    except (EsafetyError, OSError, ValueError):
        return None


def _slug(config_path: Path) -> str:
    return config_path.parent.name if config_path.name in CONFIG_NAMES else config_path.stem


def _default_site(config_path: Path) -> Path:
    if config_path.name in CONFIG_NAMES:
        return config_path.parent / "site"
    return config_path.parent / f"site-{config_path.stem}"


def prepare(job: SchoolJob, use_cache: bool, renderer: PdfRenderer) -> tuple[Path, SchoolPdfs]:
    """Load and compose one school (everything that can fail on its input), its PDFs
    starting to render as each document is composed."""
    if not job.config_path.is_file():
        raise UsageError(f"{job.config_path}: no such config file")
    project_dir = job.config_path.resolve().parent
    config = load_config(job.config_path, project_dir)
    if examples := made_up(config):
        log.warning(
            "%s: %s still the made-up example%s esafety new wrote (%s), and the pack prints "
            "them as they are; esafety check lists them all",
            job.config_path,
            f"{len(examples)} values are" if len(examples) > 1 else "1 value is",
            "s" if len(examples) > 1 else "",
            ", ".join(f.path for f in examples[:3]) + ("..." if len(examples) > 3 else ""),
        )
    site_dir = site_dir_of(job)
    cache = BuildCache(school_cache_dir(job.config_path)) if use_cache else None
    started: list[SchoolPdfs] = []

    def render(pack: Pack, docs: list[PrintDoc]) -> None:
        if not started:
            started.append(renderer.begin(pack, cache))
        renderer.add(started[0], docs)

    try:
        pack = compose(config, project_dir, on_prints=render)
        word_copy(pack, cache)  # made here while the PDFs render
    except BaseException:
        if started:  # the PDFs already started are not wanted now
            started[0].abandon()
        raise
    return site_dir, started[0] if started else renderer.begin(pack, cache)


def _conversions_kept(job: SchoolJob, use_cache: bool) -> AbstractContextManager[None]:
    """The school's Markdown conversions, kept in its build cache from one build to the
    next (composing and the print HTML convert every fragment of content)."""
    if not use_cache:
        return nullcontext()
    return conversions_kept(school_cache_dir(job.config_path) / "markdown.json")


def render_and_publish(
    pack: Pack,
    site_dir: Path,
    pdfs: SchoolPdfs,
    cache: BuildCache | None = None,
    engine: str = "mkdocs",
) -> BuildResult:
    """Stage the site beside ``site_dir`` (web pages built as soon as a worker is free, while
    the last PDFs render), check it, then publish pages and PDFs together in one move,
    unless it is exactly the site already there."""
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(site_dir.parent)
    prefix = f"{STAGING_PREFIX}{os.getpid()}-"
    with tempfile.TemporaryDirectory(prefix=prefix, dir=site_dir.parent) as tmp:
        (Path(tmp) / STAGING_MARKER).write_text("esafety-pack build in progress\n")
        project = Path(tmp) / "project"
        config_path = write_project(pack, project)
        downloads = project / "docs" / "downloads"
        staged = None
        pdfs.wait_for_a_free_worker()
        if pdfs.pending:  # build the pages now, against placeholder PDFs
            write_downloads(pack, _placeholders(pack, pdfs.done), downloads)
            with reproducible_dates(pack.config):
                staged = run_engine(engine, config_path)
        rendered = pdfs.result()
        for line in small_posters(pack.config, rendered):
            log.warning(line)
        write_downloads(pack, rendered, downloads)
        # The engine's input only (docs/, mkdocs.yml and the 404 page's words): the staged
        # site may be in project/.
        site_key = ":".join(
            (
                tree_digest(project / "docs"),
                hashlib.sha256(config_path.read_bytes()).hexdigest(),
                hashlib.sha256((project / NOT_FOUND).read_bytes()).hexdigest(),
                engine_versions(engine),
            )
        )
        if staged is None and cache and site_dir.is_dir() and cache.site_key(site_dir) == site_key:
            log.info("nothing changed; %s left as it is", site_dir)
        else:
            if staged is None:
                with reproducible_dates(pack.config):
                    staged = run_engine(engine, config_path)
            write_downloads(pack, rendered, staged / "downloads")
            mark_as_ours(staged)
            publish(staged, site_dir)
            if cache:
                cache.remember_site(site_dir, site_key)
    log.info("built %d pages and %d PDFs into %s", len(pack.pages), len(rendered), site_dir)
    return BuildResult(site_dir, len(pack.pages), tuple(rendered))


def _placeholders(pack: Pack, ready: dict[str, RenderedPdf]) -> list[RenderedPdf]:
    """The ``ready`` PDFs, and empty stand-ins for the others (the engines only check that
    each linked file exists; the real bytes replace them before publishing)."""
    return [ready.get(doc.filename) or RenderedPdf(doc.filename, b"", 0, ()) for doc in pack.prints]


def write_downloads(pack: Pack, pdfs: list[RenderedPdf], folder: Path) -> None:
    """The PDFs, other downloads and manifest.json (into docs/, so every link is checked)."""
    folder.mkdir(parents=True, exist_ok=True)
    for extra in pack.files:
        (folder / extra.filename).write_bytes(extra.data)
    by_name = {doc.filename: doc for doc in pack.prints}
    entries = []
    for pdf in pdfs:
        (folder / pdf.filename).write_bytes(pdf.data)
        doc = by_name[pdf.filename]
        entries.append(
            {
                "file": pdf.filename,
                "title": doc.title,
                "audience": doc.audience,
                "pages": pdf.pages,
                "bytes": len(pdf.data),
                "sha256": hashlib.sha256(pdf.data).hexdigest(),
            }
        )
    manifest = {
        "school": pack.config.school.name,
        "trust": pack.config.school.trust,
        "version": pack.config.review.version,
        "approved_on": pack.config.review.approved_on.isoformat(),
        "next_review": pack.config.next_review.isoformat(),
        "documents": entries,
        "files": [  # the downloads that are not PDFs (the Word copy, the calendar)
            {
                "file": extra.filename,
                "title": extra.title,
                "audience": extra.audience,
                "kind": extra.kind,
                "bytes": len(extra.data),
                "sha256": hashlib.sha256(extra.data).hexdigest(),
            }
            for extra in pack.files
        ],
    }
    (folder / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def mark_as_ours(site: Path) -> None:
    (site / SITE_MARKER).write_text(
        "Built by esafety-pack: each build replaces this whole folder.\n", encoding="utf-8"
    )


def publish(staged: Path, site_dir: Path) -> None:
    """Put ``staged`` in place of ``site_dir`` in one move (atomic swap where Linux allows)."""
    if interrupted.is_set():  # a Ctrl+C a library swallowed still leaves the site as it was
        raise KeyboardInterrupt
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
    try:  # the C library the process has loaded already (finding it by name runs ldconfig)
        libc = ctypes.CDLL(None, use_errno=True)
    except (OSError, TypeError):
        return False
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def load(config_path: Path) -> Config:
    """Validate only (for ``esafety check``)."""
    return load_config(config_path, Path(config_path).resolve().parent)
