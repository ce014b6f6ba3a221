"""``python -m generator`` is the same as ``esafety``."""

import sys

from .cli import main

sys.exit(main())
