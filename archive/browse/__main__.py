"""`python -m archive.browse DIR` runs `newsarchive browse DIR` (for tests and tools that start it in a subprocess)."""

from __future__ import annotations

import sys

from .cli import browse_main

if __name__ == "__main__":
    sys.exit(browse_main())
