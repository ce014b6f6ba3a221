"""``python -m generator`` is the same as ``esafety``."""

from .cli import run

run()
