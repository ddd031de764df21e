"""A deterministic replica of the damaged news portal, served on loopback, so crawls are tested without leaving the machine.

`testing.start_replica` runs it for tests; `newsarchive portal` (or `python -m scraper.replica`) from the shell.
"""
