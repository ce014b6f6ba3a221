"""Where the tool's own files are: ``content/``, ``templates/`` and the base ``mkdocs.yml``.

In a checkout they sit beside ``generator/``; an installed wheel carries them inside the
package as ``generator/_tool/`` (see pyproject.toml). Either way they are found through
the package, so ``pipx install`` then ``esafety new`` works from any folder.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _tool_root() -> Path:
    packaged = Path(str(files("generator"))) / "_tool"
    if (packaged / "content").is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


TOOL_ROOT = _tool_root()
CONTENT_DIR = TOOL_ROOT / "content"
TEMPLATES_DIR = TOOL_ROOT / "templates"
