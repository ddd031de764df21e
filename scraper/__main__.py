"""`python -m scraper`: the newsarchive command line.
Same as the `newsarchive` console script."""

from __future__ import annotations

import sys

from scraper.cli import main

sys.exit(main())
