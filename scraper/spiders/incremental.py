"""Which discovered articles a crawl fetches: the archive's known ids, date bounds, revisits and the article limit.
Pure decisions over the archive index and the URL's date, so the spider stays a finder of pages."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from archive.index import ArchiveIndex
from archive.reader import iter_records, parse_instant

logger = logging.getLogger(__name__)

FETCH = "fetch"
KNOWN = "known"  # in the archive already; not fetched again
OUT_OF_RANGE = "out_of_range"  # published outside --since/--until

_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.I)
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`30m`, `6h`, `7d`, `2w` as a timedelta (one number, one unit).

    >>> parse_duration("6h")
    datetime.timedelta(seconds=21600)
    >>> parse_duration("2w").days
    14
    """
    match = _DURATION_RE.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"not a duration: {text!r}; write a positive number and a unit, e.g. 30m, 6h, 7d or 2w")
    return timedelta(**{_DURATION_UNITS[match.group(2).lower()]: int(match.group(1))})


def parse_day(text: str) -> date:
    """A calendar date written YYYY-MM-DD (or YYYYMMDD, as in the portal's URLs)."""
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}; write YYYY-MM-DD")


@dataclass(frozen=True)
class Policy:
    """What to fetch among the articles a crawl discovers."""

    refresh: bool = False  # fetch known articles too
    revisit_after: timedelta | None = None  # fetch known articles fetched longer ago than this
    since: date | None = None  # publication date bounds, inclusive
    until: date | None = None
    max_articles: int = 0  # fetch at most this many articles (the newest); 0: no limit

    @classmethod
    def read_settings(cls, settings: Any) -> Policy:
        revisit = settings.get("PORTAL_REVISIT_AFTER")
        since = settings.get("PORTAL_SINCE")
        until = settings.get("PORTAL_UNTIL")
        policy = cls(
            # PORTAL_REFRESH: fetch every article again, even those the archive holds.
            refresh=settings.getbool("PORTAL_REFRESH"),
            # PORTAL_REVISIT_AFTER: a duration (6h, 7d); known articles fetched longer ago are fetched again.
            revisit_after=parse_duration(revisit) if revisit else None,
            # PORTAL_SINCE / PORTAL_UNTIL: YYYY-MM-DD bounds (inclusive) on the date in the article URL.
            since=parse_day(since) if since else None,
            until=parse_day(until) if until else None,
            # PORTAL_MAX_ARTICLES: fetch at most N articles per crawl, the newest first; 0 for no limit.
            max_articles=settings.getint("PORTAL_MAX_ARTICLES"),
        )
        if policy.since and policy.until and policy.since > policy.until:
            raise ValueError(f"PORTAL_SINCE {policy.since} is after PORTAL_UNTIL {policy.until}")
        if policy.max_articles < 0:
            raise ValueError(f"PORTAL_MAX_ARTICLES must be 0 (no limit) or positive, got {policy.max_articles}")
        return policy

    def in_range(self, published: date | None) -> bool:
        if published is None:  # no date in the URL: the bounds cannot exclude it
            return True
        return (self.since is None or published >= self.since) and (self.until is None or published <= self.until)


class KnownArticles:
    """The article ids an archive holds (from its index) and when each was last fetched (from its records)."""

    def __init__(self, ids: set[str], root: Path | None = None, index: ArchiveIndex | None = None) -> None:
        self.ids = ids
        self.root = root
        self.index = index
        self._fetched_at: dict[str, datetime] | None = None

    @classmethod
    def open(cls, root: Path) -> KnownArticles:
        """Known ids of the archive at `root`; none if it is not an archive (yet)."""
        if (root / "__init__.py").exists() or not (root / "articles").is_dir():
            # Not an archive: opening an index there would write index.json into it.
            return cls(set())
        index = ArchiveIndex.open(root)
        return cls(set(index.entries), root, index)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self.ids

    def __len__(self) -> int:
        return len(self.ids)

    def fetched_at(self, article_id: str) -> datetime | None:
        """When the archived (latest) record of `article_id` was fetched.

        From the index entry when it carries the date; otherwise the records are read once, on first use.
        """
        entry = self.index.get(article_id) if self.index is not None else None
        from_index = parse_instant(getattr(entry, "fetched_at", None))
        if from_index is not None:
            return from_index
        if self._fetched_at is None:
            self._fetched_at = {}
            if self.root is not None:
                for record in iter_records(self.root):
                    instant = parse_instant(record.get("fetched_at"))
                    previous = self._fetched_at.get(record["id"])
                    if instant is not None and (previous is None or instant > previous):
                        self._fetched_at[record["id"]] = instant
            logger.info("read fetch times of %d archived articles", len(self._fetched_at))
        return self._fetched_at.get(article_id)

    def decide(
        self, policy: Policy, article_id: str, published: date | None, lastmod: datetime | None, now: datetime
    ) -> str:
        """FETCH, KNOWN or OUT_OF_RANGE for one discovered article."""
        if not policy.in_range(published):
            return OUT_OF_RANGE
        if policy.refresh or article_id not in self.ids:
            return FETCH
        if policy.revisit_after is None and lastmod is None:
            return KNOWN
        fetched = self.fetched_at(article_id)
        if fetched is None:  # indexed but its date unreadable: fetch rather than guess
            return FETCH
        if policy.revisit_after is not None and now - fetched >= policy.revisit_after:
            return FETCH
        if lastmod is not None and lastmod > fetched:  # the sitemap says it changed since
            return FETCH
        return KNOWN
