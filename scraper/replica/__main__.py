"""`python -m scraper.replica`: the same command line as `newsarchive portal`.

See `scraper.replica.server.portal_main`.
"""

from __future__ import annotations

import sys

from scraper.replica.server import portal_main

if __name__ == "__main__":
    sys.exit(portal_main(sys.argv[1:]))
