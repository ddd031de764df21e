"""The cleaner's version stamp: the package version and a hash of the character model it reads.

Records carry it, so a reader knows which cleaner made each text and `reclean` knows what is stale.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata, resources

MODEL_FILES = ("charfreq.tsv", "pairfreq.tsv")


@cache
def cleaner_version() -> str:
    """`<package version>+model.<12 hex digits of the model tables' SHA-256>`.

    >>> cleaner_version().split("+model.")[1].isalnum()
    True
    """
    try:
        package = metadata.version("newsarchive")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        package = "0+source"
    digest = hashlib.sha256()
    data = resources.files("scraper.cleaner").joinpath("data")
    for name in MODEL_FILES:
        digest.update(data.joinpath(name).read_bytes())
    return f"{package}+model.{digest.hexdigest()[:12]}"
