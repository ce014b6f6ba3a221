"""generator/cffi_cache.py: WeasyPrint's C declarations kept per machine, the same PDFs.

Each check runs in a fresh interpreter (WeasyPrint is imported once per process) with its
own cache folder."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Imports WeasyPrint the PDF server's way, renders one PDF of the sample school and reports
# what happened; the declarations are written (and waited for) if they were not read.
SCRIPT = """
import hashlib, json, sys
from pathlib import Path
from generator import cffi_cache
how = sys.argv[2]
if how == "plain":
    import weasyprint
    read = False
else:
    read = cffi_cache.import_weasyprint(Path(sys.argv[1]))
    thread = cffi_cache.remember_declarations(Path(sys.argv[1]))
    if thread is not None:
        thread.join()
from generator.build import load_config
from generator.compose import compose
from generator.pdf import PrintJob
from generator.render import render_task
root = Path(sys.argv[3])
pack = compose(load_config(root / "school_config.yaml", root), root)
doc = next(doc for doc in pack.prints if doc.filename == sys.argv[4])
pdf = render_task(PrintJob(pack, doc).task())
print(json.dumps({
    "read": read,
    "loaded": cffi_cache.declarations_loaded(),
    "pdf": hashlib.sha256(pdf.data).hexdigest(),
    "pages": pdf.pages,
}))
"""


def run(cache: Path, how: str = "cached", pdf: str = "aup-staff.pdf") -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(cache), how, str(ROOT), pdf],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # cffi says nothing while it writes the module
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_declarations_are_written_once_then_read_and_the_pdf_is_the_same(tmp_path: Path) -> None:
    plain = run(tmp_path, "plain", "policy.pdf")
    assert not list(tmp_path.iterdir())  # a plain import writes nothing

    first = run(tmp_path, pdf="policy.pdf")
    (written,) = tmp_path.glob("weasyprint-ffi-*.py")
    assert not first["read"] and not first["loaded"]

    second = run(tmp_path, pdf="policy.pdf")
    assert second["read"] and second["loaded"]
    assert list(tmp_path.iterdir()) == [written]  # nothing more, no temporary files
    assert plain["pages"] > 20
    assert first["pdf"] == second["pdf"] == plain["pdf"]


def test_a_damaged_or_stale_declarations_file_means_a_plain_import_and_a_new_file(
    tmp_path: Path,
) -> None:
    run(tmp_path)
    (written,) = tmp_path.glob("weasyprint-ffi-*.py")
    good = written.read_text(encoding="utf-8")
    plain = run(tmp_path, "plain")

    stale = "# cdef sha256: " + hashlib.sha256(b"other declarations").hexdigest()
    for damaged in (good[: len(good) // 2], stale + good[good.index("\n") :], "not python ("):
        written.write_text(damaged, encoding="utf-8")
        result = run(tmp_path)
        assert not result["read"] and not result["loaded"]
        assert result["pdf"] == plain["pdf"]
        assert written.read_text(encoding="utf-8") == good  # written afresh for next time


def test_a_cache_folder_that_cannot_be_written_means_nothing_is_parsed_twice(
    tmp_path: Path,
) -> None:
    """Where the declarations cannot be kept, no build parses them a second time to try."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    script = (
        "from pathlib import Path\n"
        "from generator import cffi_cache\n"
        f"assert not cffi_cache.import_weasyprint(Path({str(blocked / 'cache')!r}))\n"
        f"print(cffi_cache.remember_declarations(Path({str(blocked / 'cache')!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"
