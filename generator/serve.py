"""``esafety serve``: build, serve on localhost, rebuild when an input changes.

Polling keeps it dependency-free and works the same on every filesystem. A build that
fails prints its one-line problems and keeps serving the last good site.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from .build import build
from .errors import EsafetyError
from .resources import CONTENT_DIR, TEMPLATES_DIR, TOOL_ROOT

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5


def watched_files(config_path: Path) -> Iterable[Path]:
    project = config_path.resolve().parent
    yield config_path.resolve()
    yield TOOL_ROOT / "mkdocs.yml"
    for folder in (CONTENT_DIR, TEMPLATES_DIR, project / "overrides", project / "assets"):
        if folder.is_dir():
            yield from (p for p in folder.rglob("*") if p.is_file())


def snapshot(config_path: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in watched_files(config_path) if p.exists()}


class Preview:
    """A local server over a school's site that rebuilds it when its inputs change."""

    def __init__(
        self,
        config_path: Path,
        site_dir: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 8000,
    ):
        self.config_path = config_path
        self.site = (site_dir or config_path.resolve().parent / "site").resolve()
        self.stop_event = threading.Event()
        self.builds = 0
        # Taken before the first build: an edit made while it runs, or before watch()
        # starts, is still seen as a change (it was missed when taken in watch()).
        self._seen = snapshot(config_path)
        self.rebuild()
        self.site.mkdir(parents=True, exist_ok=True)
        handler = functools.partial(_QuietHandler, directory=str(self.site))
        self.server = http.server.ThreadingHTTPServer((host, port), handler)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def rebuild(self) -> bool:
        self.builds += 1
        try:
            # Every rebuild reuses the PDF workers the first build started.
            result = build(self.config_path, self.site, pages_first=True)
        except EsafetyError as exc:
            log.error("%s\n(still serving the last good build)", exc)
            return False
        log.info("Built %d pages and %d PDFs", result.pages, len(result.pdfs))
        return True

    def watch(self) -> None:
        """Serve and rebuild on change until stop() (or Ctrl+C)."""
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        try:
            while not self.stop_event.wait(POLL_SECONDS):
                now = snapshot(self.config_path)
                if now != self._seen:
                    self._seen = now
                    self.rebuild()
        finally:
            self.server.shutdown()
            self.server.server_close()

    def stop(self) -> None:
        self.stop_event.set()


def serve(
    config_path: Path, site_dir: Path | None, host: str = "127.0.0.1", port: int = 8000
) -> None:
    preview = Preview(config_path, site_dir, host, port)
    log.info("Serving %s (Ctrl+C to stop)", preview.url)
    with contextlib.suppress(KeyboardInterrupt):
        preview.watch()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug(format, *args)
