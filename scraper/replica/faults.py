"""Faults the replica can serve, and which URL gets which: pure, seeded decisions.

`FaultPlan.decide(path, query, attempt)` says what to serve; the server only performs it.
"""

from __future__ import annotations

import functools
import gzip
import random
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

# Per-URL faults on article pages. Transient ones stop after `retries` attempts,
# so a crawler that retries that often still gets every such page.
TRANSIENT = ("5xx", "429", "reset", "timeout", "truncated")
# Served once, correctly, but in an awkward way: the page is still obtainable.
AWKWARD = ("drip", "redirect_chain", "tracking_duplicate")
# Never yield the article, however often it is asked for.
PERMANENT = ("redirect_loop", "offhost_redirect", "junk", "empty", "oversize")
URL_FAULTS = TRANSIENT + AWKWARD + PERMANENT
# Faults of the site rather than of one article URL.
SITE_FAULTS = ("sitemap_malformed", "sitemap_bomb", "robots")
# What `all` turns on: the ways the real portal misbehaves.
FAULT_NAMES = URL_FAULTS + SITE_FAULTS
# A hostile server, named one by one (not part of `all`): a gzip bomb on some article URLs, links longer than
# any crawler takes on the home page, and a column whose list pages go on forever, each linking the next.
HOSTILE_URL_FAULTS = ("gzip_bomb",)
HOSTILE_FAULTS = (*HOSTILE_URL_FAULTS, "long_urls", "endless_pages")

MALFORMED_SITEMAP = "/sitemap-malformed.xml"
BOMB_SITEMAP = "/sitemap-bomb.xml"
SERVER_ERRORS = (500, 502, 503, 504)
RETRY_AFTER_SECONDS = 1
CHAIN_HOPS = 3
OFFHOST = "127.0.0.2"  # another loopback address: a different host that never leaves the machine
TRACKING_QUERY = "utm_source=wechat&utm_medium=share&utm_campaign=replica"
# Defaults sized against scraper.settings: held longer than DOWNLOAD_TIMEOUT (30 s),
# bigger than DOWNLOAD_MAXSIZE (16 MiB). Tests shrink both with a short client timeout.
DEFAULT_HOLD_SECONDS = 40.0
DEFAULT_DRIP_SECONDS = 2.0
DEFAULT_OVERSIZE_BYTES = 17 * 1024 * 1024
DEFAULT_RETRIES = 2
# A gzip bomb: ~10 MB on the wire that inflate to 10 GiB (gzip members of 1 MiB of zeros each, ~1 KB apiece).
DEFAULT_BOMB_BYTES = 10 * 1024**3
BOMB_MEMBER_BYTES = 1024 * 1024
# Long links: over the 2,083 characters that browsers (and Scrapy's URLLENGTH_LIMIT) accept.
LONG_URL_DIGITS = 2100
DEFAULT_SHARE = 0.5  # of the eligible articles; every enabled fault gets at least one


def parse_fault_names(spec: str) -> frozenset[str]:
    """`all`, empty, or a comma-separated list of fault names.

    >>> sorted(parse_fault_names("429, junk"))
    ['429', 'junk']
    """
    names = {part.strip() for part in spec.split(",") if part.strip()}
    if "all" in names:
        names = (names - {"all"}) | set(FAULT_NAMES)
    unknown = names - set(FAULT_NAMES) - set(HOSTILE_FAULTS)
    if unknown:
        raise ValueError(
            f"unknown fault(s) {', '.join(sorted(unknown))}; known: all, {', '.join(FAULT_NAMES + HOSTILE_FAULTS)}"
        )
    return frozenset(names)


@dataclass(frozen=True)
class FaultConfig:
    """Which faults are on and how hard they bite."""

    enabled: frozenset[str] = frozenset()
    seed: int = 0
    retries: int = DEFAULT_RETRIES
    hold_seconds: float = DEFAULT_HOLD_SECONDS
    drip_seconds: float = DEFAULT_DRIP_SECONDS
    oversize_bytes: int = DEFAULT_OVERSIZE_BYTES
    share: float = DEFAULT_SHARE
    bomb_bytes: int = DEFAULT_BOMB_BYTES


@dataclass(frozen=True)
class Decision:
    """What to serve for one request.

    `action` is `respond` (status, headers, body), `reset` (drop the connection with
    a TCP RST), `hold` (answer nothing for `seconds`, then close), `drip` (send the
    body in pieces over `seconds`) or `truncate` (announce the full length, send
    half, close). `body` None means the portal's own page; `pad_to` pads it.
    """

    fault: str | None = None
    action: str = "respond"
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    seconds: float = 0.0
    pad_to: int | None = None


NORMAL = Decision()


@dataclass(frozen=True)
class Expected:
    """The outcome a retrying, robots-obeying crawler should reach for a URL."""

    fault: str
    transient: bool
    obtainable: bool  # the article can be had (after retries, a redirect chain, ...)
    detail: dict[str, object] = field(default_factory=dict)


def xml_bomb(levels: int = 10, fanout: int = 10) -> bytes:
    """A billion-laughs document shaped like a sitemap: 10**levels `lol`s if expanded."""
    entities = ['<!ENTITY lol0 "lol">']
    for level in range(1, levels):
        refs = f"&lol{level - 1};" * fanout
        entities.append(f'<!ENTITY lol{level} "{refs}">')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE urlset [\n  ' + "\n  ".join(entities) + "\n]>\n"
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"<url><loc>&lol{levels - 1};</loc></url>\n</urlset>\n"
    ).encode("ascii")


def malformed_sitemap(urls: Sequence[str]) -> bytes:
    """A sitemap cut off mid-document, with an unescaped `&` and an unclosed <url>."""
    entries = "".join(f"<url><loc>{u}</loc></url>\n" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}<url><loc>/search/?q=a&b</loc>\n<url><lo"
    ).encode()


@functools.lru_cache(maxsize=4)
def gzip_bomb(inflated: int) -> bytes:
    """A gzip stream of `inflated` zero bytes (rounded up to whole MiB), as concatenated members: ~1/1000 of the size."""
    member = gzip.compress(b"\0" * BOMB_MEMBER_BYTES, compresslevel=9, mtime=0)
    return member * max(1, -(-inflated // BOMB_MEMBER_BYTES))


def junk_bytes(seed: str, size: int = 4096) -> bytes:
    """Deterministic binary junk (it starts like a gzip stream, which it is not)."""
    rng = random.Random(seed)
    return b"\x1f\x8b\x08\x00" + bytes(rng.randrange(256) for _ in range(size - 4))


class Attempts:
    """Thread-safe count of the requests seen per path (query string ignored)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def next(self, path: str) -> int:
        """Record one more request for `path`; return its 1-based attempt number."""
        with self._lock:
            count = self._counts.get(path, 0) + 1
            self._counts[path] = count
            return count


class FaultPlan:
    """The seeded assignment of faults to the portal's URLs, and the decisions that follow."""

    def __init__(
        self, config: FaultConfig, base_url: str, article_paths: Sequence[str], column_paths: Sequence[str]
    ) -> None:
        self.config = config
        self.base_url = base_url.rstrip("/")
        self.attempts = Attempts()
        rng = random.Random(f"faults:{config.seed}")
        self.disallowed: str | None = None
        if "robots" in config.enabled and column_paths:
            self.disallowed = rng.choice(sorted(column_paths))
        disallowed = self.disallowed
        self.robots_blocked = [p for p in article_paths if disallowed and p.startswith(disallowed)]
        eligible = [p for p in article_paths if p not in set(self.robots_blocked)]
        rng.shuffle(eligible)
        kinds = [name for name in URL_FAULTS + HOSTILE_URL_FAULTS if name in config.enabled]
        per_fault = max(1, int(len(eligible) * config.share) // max(1, len(kinds)))
        self.by_path: dict[str, str] = {}
        for i, path in enumerate(eligible[: per_fault * len(kinds)]):
            self.by_path[path] = kinds[i % len(kinds)]
        self.sitemap_sample = sorted(article_paths)[:5]
        # The column whose pagination never ends, and the over-long links the home page gets.
        self.endless_column = sorted(column_paths)[0] if "endless_pages" in config.enabled and column_paths else None
        self.long_links: list[str] = []
        if "long_urls" in config.enabled and column_paths:
            column = sorted(column_paths)[0]
            digits = "1" * LONG_URL_DIGITS
            self.long_links = [f"{column}202501/t20250101_{digits}.html", f"{column}index_{digits}.html"]
        # Link rewriting for tracking duplicates: file name -> article path.
        self._tracked = {p.rsplit("/", 1)[1]: p for p, f in self.by_path.items() if f == "tracking_duplicate"}

    @property
    def enabled(self) -> frozenset[str]:
        return self.config.enabled

    def extra_sitemaps(self) -> list[str]:
        paths = []
        if "sitemap_malformed" in self.enabled:
            paths.append(MALFORMED_SITEMAP)
        if "sitemap_bomb" in self.enabled:
            paths.append(BOMB_SITEMAP)
        return paths

    def robots(self, original: str) -> str:
        """robots.txt with the disallowed column and the extra sitemaps added."""
        lines = original.rstrip("\n").split("\n")
        if self.disallowed:
            lines.insert(1, f"Disallow: {self.disallowed}")
        lines += [f"Sitemap: {self.base_url}{p}" for p in self.extra_sitemaps()]
        return "\n".join(lines) + "\n"

    def rewrite_links(self, body: bytes) -> bytes:
        """Give the links to tracking-duplicate articles a `utm_` query (list and home pages)."""
        if not self._tracked:
            return body

        def tag(match: re.Match[bytes]) -> bytes:
            href = match.group(1).decode("ascii")
            if href.rsplit("/", 1)[-1] in self._tracked and "?" not in href:
                return b'href="' + (href + "?" + TRACKING_QUERY.replace("&", "&amp;")).encode("ascii") + b'"'
            return match.group(0)

        return re.sub(rb'href="([\x21\x23-\x7e]+?\.html)"', tag, body)

    def add_long_links(self, path: str, body: bytes) -> bytes:
        """The home page with the over-long links added before </body>."""
        if not self.long_links or path not in ("/", "/index.html"):
            return body
        links = "".join(f'<a href="{link}">more</a>' for link in self.long_links).encode("ascii")
        return body.replace(b"</body>", links + b"</body>", 1)

    def endless_index(self, path: str) -> int | None:
        """The page number of a list page of the endless column (0 for its first page), None for any other path."""
        column = self.endless_column
        if column is None or not path.startswith(column):
            return None
        name = path[len(column) :]
        if name in ("", "index.html"):
            return 0
        match = re.fullmatch(r"index_([0-9]{1,9})\.html", name)
        return int(match.group(1)) if match else None

    def endless_page(self, body: bytes, index: int) -> bytes:
        """A list page that links the next one, whatever its number."""
        link = f'<a href="index_{index + 1}.html">下一頁</a>'.encode()
        return body.replace(b"</body>", link + b"</body>", 1)

    def expected(self) -> dict[str, Expected]:
        """Absolute URL -> the fault it gets and the outcome a good crawler should reach."""
        out: dict[str, Expected] = {}
        k = self.config.retries
        for path, fault in sorted(self.by_path.items()):
            detail: dict[str, object] = {}
            if fault in TRANSIENT:
                detail["failures"] = k
            elif fault == "redirect_chain":
                detail["final_url"] = f"{self.base_url}{path}?hop={CHAIN_HOPS}"
            elif fault == "tracking_duplicate":
                detail["duplicate_url"] = f"{self.base_url}{path}?{TRACKING_QUERY}"
            elif fault == "offhost_redirect":
                detail["location"] = self._offhost(path)
            obtainable = fault in TRANSIENT or fault in AWKWARD
            out[self.base_url + path] = Expected(fault, fault in TRANSIENT, obtainable, detail)
        for path in self.robots_blocked:
            out[self.base_url + path] = Expected("robots", False, False, {"disallow": self.disallowed})
        for path in self.long_links:
            out[self.base_url + path] = Expected("long_urls", False, False)
        if self.endless_column is not None:
            out[self.base_url + self.endless_column] = Expected("endless_pages", False, True)
        for path in self.extra_sitemaps():
            name = "sitemap_bomb" if path == BOMB_SITEMAP else "sitemap_malformed"
            out[self.base_url + path] = Expected(name, False, False)
        return out

    def _offhost(self, path: str) -> str:
        port = urlsplit(self.base_url).port
        return f"http://{OFFHOST}:{port}{path}"

    def decide(self, path: str, query: str, attempt: int) -> Decision:
        """What to serve for the `attempt`-th request of `path` (1-based)."""
        if path == BOMB_SITEMAP and "sitemap_bomb" in self.enabled:
            return Decision("sitemap_bomb", body=xml_bomb(), status=200, headers=(("Content-Type", "application/xml"),))
        if path == MALFORMED_SITEMAP and "sitemap_malformed" in self.enabled:
            urls = [self.base_url + p for p in self.sitemap_sample]
            return Decision(
                "sitemap_malformed",
                body=malformed_sitemap(urls),
                status=200,
                headers=(("Content-Type", "application/xml"),),
            )
        if self.endless_index(path) is not None:
            return Decision("endless_pages")
        fault = self.by_path.get(path)
        if fault is None:
            return NORMAL
        if fault in TRANSIENT:
            return self._transient(fault, attempt, path) if attempt <= self.config.retries else NORMAL
        return self._lasting(fault, path, query)

    def _transient(self, fault: str, attempt: int, path: str) -> Decision:
        html = (("Content-Type", "text/html"),)
        if fault == "5xx":
            status = SERVER_ERRORS[(attempt + len(path)) % len(SERVER_ERRORS)]
            return Decision(fault, status=status, headers=html, body=b"<html><body>busy</body></html>")
        if fault == "429":
            headers = (*html, ("Retry-After", str(RETRY_AFTER_SECONDS)))
            return Decision(fault, status=429, headers=headers, body=b"<html><body>slow down</body></html>")
        if fault == "reset":
            return Decision(fault, action="reset")
        if fault == "timeout":
            return Decision(fault, action="hold", seconds=self.config.hold_seconds)
        return Decision(fault, action="truncate")

    def _lasting(self, fault: str, path: str, query: str) -> Decision:
        params = parse_qs(query)
        if fault == "drip":
            return Decision(fault, action="drip", seconds=self.config.drip_seconds)
        if fault == "tracking_duplicate":
            return Decision(fault)  # the page itself is fine; its links carry the duplicates
        if fault == "redirect_chain":
            hop = int(params.get("hop", ["0"])[0] or 0)
            if hop >= CHAIN_HOPS:
                return Decision(fault)
            return _redirect(fault, f"{self.base_url}{path}?hop={hop + 1}")
        if fault == "redirect_loop":
            loop = int(params.get("loop", ["0"])[0] or 0)
            return _redirect(fault, f"{self.base_url}{path}?loop={1 if loop == 2 else loop + 1}")
        if fault == "offhost_redirect":
            return _redirect(fault, self._offhost(path))
        if fault == "junk":
            return Decision(
                fault, status=200, headers=(("Content-Type", "text/html; charset=gbk"),), body=junk_bytes(path)
            )
        if fault == "gzip_bomb":
            headers = (("Content-Type", "text/html; charset=gbk"), ("Content-Encoding", "gzip"))
            return Decision(fault, status=200, headers=headers, body=gzip_bomb(self.config.bomb_bytes))
        if fault == "empty":
            return Decision(fault, status=200, headers=(("Content-Type", "text/html"),), body=b"")
        return Decision(fault, pad_to=self.config.oversize_bytes)


def _redirect(fault: str, location: str) -> Decision:
    return Decision(fault, status=302, headers=(("Location", location), ("Content-Type", "text/html")), body=b"")


def oversize_body(page: bytes, size: int) -> bytes:
    """The page padded with an HTML comment to `size` bytes (never smaller than the page)."""
    pad = max(0, size - len(page) - len(b"<!--\n-->\n"))
    return page + b"<!--" + b"x" * pad + b"\n-->\n"


def plan_for(
    config: FaultConfig, base_url: str, article_paths: Iterable[str], column_paths: Iterable[str]
) -> FaultPlan | None:
    """A plan when any fault is on, else None (the server then serves as before)."""
    if not config.enabled:
        return None
    return FaultPlan(config, base_url, list(article_paths), list(column_paths))
