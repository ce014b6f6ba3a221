"""`esafety serve`: the preview rebuilds when the config changes and survives bad edits."""

from __future__ import annotations

import threading
import time
import urllib.request

from generator.serve import Preview


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (localhost)
        return response.read().decode("utf-8")


def wait_for(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_preview_rebuilds_on_config_change_and_keeps_last_good_site(make_school):
    config = make_school()
    preview = Preview(config, port=0)
    thread = threading.Thread(target=preview.watch, daemon=True)
    thread.start()
    try:
        assert "Willowbank Primary School" in fetch(preview.url)

        text = config.read_text(encoding="utf-8")
        config.write_text(
            text.replace("Willowbank Primary School", "Brookside Primary School"), encoding="utf-8"
        )
        assert wait_for(lambda: "Brookside Primary School" in fetch(preview.url))

        # A broken edit: the last good site keeps being served.
        builds = preview.builds
        config.write_text("school: [unclosed\n", encoding="utf-8")
        assert wait_for(lambda: preview.builds > builds)
        assert "Brookside Primary School" in fetch(preview.url)
    finally:
        preview.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
