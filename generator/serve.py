"""``esafety serve``: build, serve on localhost, rebuild when an input changes.

Polling keeps it dependency-free and works the same on every filesystem. A build that
fails prints its one-line problems and keeps serving the last good site. Every page it
serves (never the built files themselves) carries a small script that waits on this
server for the next good build and then reloads the page, as ``mkdocs serve`` does.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import http.server
import logging
import secrets
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .build import build
from .defaults import read_with_defaults
from .errors import EsafetyError, UsageError
from .resources import CONTENT_DIR, TEMPLATES_DIR, TOOL_ROOT

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
RELOAD_PATH = "/.esafety-livereload"
WAIT_SECONDS = 20.0  # how long a page's request for the next build is held open
# Asks for the build after the one the page came from; reloads when it lands.
RELOAD_SCRIPT = (
    "<script>(function(){{var seen='{build}';function wait(){{"
    "fetch('" + RELOAD_PATH + "?since='+seen,{{cache:'no-store'}})"
    ".then(function(r){{return r.text()}})"
    ".then(function(t){{if(t!==seen){{location.reload()}}else{{wait()}}}})"
    ".catch(function(){{setTimeout(wait,2000)}})}}wait()}})();</script>"
)


def watched_files(config_path: Path) -> Iterable[Path]:
    project = config_path.resolve().parent
    yield config_path.resolve()
    yield TOOL_ROOT / "mkdocs.yml"
    shared = _shared_defaults(config_path)
    yield from shared
    overrides = [folder.parent / "overrides" for folder in shared]
    for folder in (
        CONTENT_DIR,
        TEMPLATES_DIR,
        project / "overrides",
        project / "assets",
        *overrides,
    ):
        if folder.is_dir():
            yield from (p for p in folder.rglob("*") if p.is_file())


def _shared_defaults(config_path: Path) -> tuple[Path, ...]:
    """The defaults files the config extends (their overrides/ apply to it too)."""
    try:
        return read_with_defaults(config_path, str(config_path)).bases
    except EsafetyError:
        return ()  # the build reports it


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
        self.good_builds = 0
        # A served page waits for this to change: "<this server>-<good builds>", so a page
        # left open while serve restarts reloads too.
        self.instance = secrets.token_hex(4)
        self.landed = threading.Condition()
        # The port first: a busy one is said at once, not after a build.
        handler = functools.partial(_PreviewHandler, self, directory=str(self.site))
        try:
            self.server = _Server((host, port), handler)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise UsageError(f"{host}:{port}: cannot serve there ({exc.strerror})") from None
            raise UsageError(
                f"{host}:{port}: port already in use; choose another with --port"
            ) from None
        # Taken before the first build: an edit made while it runs, or before watch()
        # starts, is still seen as a change (it was missed when taken in watch()).
        self._seen = snapshot(config_path)
        try:
            self.rebuild()
        except BaseException:
            self.server.server_close()
            raise
        self.site.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def rebuild(self) -> bool:
        self.builds += 1
        try:
            # Every rebuild reuses the PDF workers the first build started.
            result = build(self.config_path, self.site)
        except EsafetyError as exc:
            log.error("%s\n(still serving the last good build)", exc)
            return False
        log.info("Built %d pages and %d PDFs", result.pages, len(result.pdfs))
        with self.landed:
            self.good_builds += 1
            self.landed.notify_all()
        return True

    @property
    def build_id(self) -> str:
        return f"{self.instance}-{self.good_builds}"

    def wait_for_build(self, since: str, timeout: float = WAIT_SECONDS) -> str:
        """The build id once it is no longer ``since`` (or after ``timeout``)."""
        with self.landed:
            self.landed.wait_for(
                lambda: self.build_id != since or self.stop_event.is_set(), timeout
            )
            return self.build_id

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
            with self.landed:
                self.landed.notify_all()  # pages waiting for a build are answered now
            self.server.shutdown()
            self.server.server_close()

    def stop(self) -> None:
        self.stop_event.set()
        with self.landed:
            self.landed.notify_all()


def serve(
    config_path: Path, site_dir: Path | None, host: str = "127.0.0.1", port: int = 8000
) -> None:
    preview = Preview(config_path, site_dir, host, port)
    log.info("Serving %s (Ctrl+C to stop)", preview.url)
    with contextlib.suppress(KeyboardInterrupt):
        preview.watch()


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that closed its tab before a page came is not an error to print."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("%s closed the connection", client_address[0])
            return
        super().handle_error(request, client_address)


class _PreviewHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site; HTML pages get the reload script, and RELOAD_PATH answers with
    the number of good builds once there is a newer one than the page's."""

    def __init__(self, preview: Preview, *args: object, **kwargs: object) -> None:
        self.preview = preview
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == RELOAD_PATH:
            since = parse_qs(url.query).get("since", [""])[0]
            build = self.preview.wait_for_build(since)
            self._send(build.encode(), "text/plain; charset=utf-8")
            return
        path = Path(self.translate_path(self.path))
        if path.is_dir() and url.path.endswith("/"):
            path = path / "index.html"
        if path.suffix != ".html" or not path.is_file():
            super().do_GET()
            return
        page = path.read_bytes()
        script = RELOAD_SCRIPT.format(build=self.preview.build_id).encode()
        end = page.rfind(b"</body>")
        page = page[:end] + script + page[end:] if end >= 0 else page + script
        self._send(page, "text/html; charset=utf-8")

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug(format, *args)
