"""``esafety serve``: build, serve on localhost, rebuild when an input changes.

Polling keeps it dependency-free and works the same on every filesystem. A build that
fails prints its one-line problems and keeps serving the last good site.
"""

from __future__ import annotations

import functools
import http.server
import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from .build import build
from .compose import CONTENT_DIR, TEMPLATES_DIR, TOOL_ROOT
from .errors import EsafetyError

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5


def watched_files(config_path: Path) -> Iterable[Path]:
    project = config_path.resolve().parent
    yield config_path.resolve()
    yield TOOL_ROOT / "mkdocs.yml"
    for folder in (CONTENT_DIR, TEMPLATES_DIR, project / "overrides", project / "assets"):
        if folder.is_dir():
            yield from (p for p in folder.rglob("*") if p.is_file())


def snapshot(config_path: Path) -> dict[Path, float]:
    return {p: p.stat().st_mtime_ns for p in watched_files(config_path) if p.exists()}


def try_build(config_path: Path, site_dir: Path | None) -> bool:
    try:
        result = build(config_path, site_dir)
    except EsafetyError as exc:
        print(f"{exc}\n(still serving the last good build)", flush=True)  # noqa: T201
        return False
    print(f"Rebuilt {result.pages} pages and {len(result.pdfs)} PDFs", flush=True)  # noqa: T201
    return True


def serve(config_path: Path, site_dir: Path | None, host: str = "127.0.0.1",
          port: int = 8000, stop: threading.Event | None = None) -> None:
    """Serve until interrupted (or until ``stop`` is set, for tests)."""
    site = (site_dir or config_path.resolve().parent / "site").resolve()
    try_build(config_path, site)
    site.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"Serving http://{host}:{server.server_address[1]}/ (Ctrl+C to stop)",  # noqa: T201
          flush=True)
    stop = stop or threading.Event()
    seen = snapshot(config_path)
    try:
        while not stop.wait(POLL_SECONDS):
            now = snapshot(config_path)
            if now != seen:
                seen = now
                try_build(config_path, site)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug(format, *args)
