"""``python -m generator`` is the same as ``esafety``."""

from .cli import run

if __name__ == "__main__":  # PDF workers import the main module; they must not run it
    run()
