"""The replica portal: deterministic generated articles, their truths and every page served.

`Portal.page(path)` answers like the real portal; `Portal.truth(id)` keeps the clean answer aside.
"""

from __future__ import annotations

import json
import math
import random
import re
import string
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from scraper.replica import pages
from scraper.replica.corpus import BYLINE_OUTLETS, Corpus, load_corpus
from scraper.replica.model import Article, Block, Column, Decor
from scraper.replica.variants import VARIANT_NAMES, content_type, encode_page

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
YEAR_START = datetime(2025, 1, 1, tzinfo=BEIJING)
MINUTES_IN_YEAR = 365 * 24 * 60
FIRST_ID = 254000
PAGE_SIZE = 20
HOME_LATEST = 20

COLUMNS: tuple[Column, ...] = (
    Column("news", "新聞中心", "yw", "要聞"),
    Column("news", "新聞中心", "sh", "社會"),
    Column("finance", "財經頻道", "cj", "財經"),
    Column("tech", "科技頻道", "kj", "科技"),
)
COLUMN_WEIGHTS = (35, 25, 20, 20)
# Real parentheticals (full-width in the truth): they must survive the cleaner's pinyin step.
PARENTHETICALS = ("（2024）", "（iPS）", "（FDA）", "（試行）", "（mRNA）", "（CAR-T）")
PARENTHETICAL_SHARE = 0.2
SERIES = ("江蘇TOP級未來產業觀察", "長三角科創觀察", "新質生產力調研行")
CIRCLED = "①②③④⑤"
HEADER_SHAPES = ("comma", "pipe", "question", "lone")
# Smallest valid-looking JPEG: images only need to exist, not to show anything.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"

_LIST_PAGE = re.compile(r"index(?:_(\d+))?\.html")
_TRUTH = re.compile(r"/_truth/(\d+)\.json")

Response = tuple[int, list[tuple[str, str]], bytes]


def gbk_safe(text: str) -> str:
    """Drop any character GBK cannot encode (the portal's pages are GBK)."""
    return "".join(ch for ch in text if ch != "\xa0" and _in_gbk(ch))


def _in_gbk(ch: str) -> bool:
    try:
        ch.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def clauses(corpus: Corpus) -> list[str]:
    """Quote-free clauses of the corpus sentences, the building blocks of titles."""
    out = []
    for sentence in corpus.sentences:
        for clause in re.split("[，；：。—]", sentence):
            if 6 <= len(clause) <= 16 and not re.search("[“”‘’《》（）]", clause):
                out.append(clause)
    return sorted(set(out))


def make_title(rng: random.Random, pool: Sequence[str]) -> str:
    """A headline recombined from clauses, sometimes with `①|`, Latin or a trailing `？`."""
    shape = rng.randrange(4)
    if shape == 0:
        title = f"{rng.choice(SERIES)}{rng.choice(CIRCLED)}|{rng.choice(pool)}"
    elif shape == 1:
        title = f"{rng.choice(pool)}，{rng.choice(pool)}"
    elif shape == 2:
        title = f"TOP觀察|{rng.choice(pool)}"
    else:
        title = rng.choice(pool)
    return title + "？" if rng.random() < 0.3 else title


def make_paragraphs(rng: random.Random, corpus: Corpus) -> list[str]:
    """3-30 paragraphs of 1-5 recombined sentences, one in five with a real parenthetical."""
    paragraphs = ["".join(rng.sample(corpus.sentences, rng.randint(1, 5))) for _ in range(rng.randint(3, 30))]
    if rng.random() < PARENTHETICAL_SHARE:
        i = rng.randrange(len(paragraphs))
        text = paragraphs[i]
        cut = min(p for p in (text.find("，"), text.find("。"), len(text)) if p > 0)
        paragraphs[i] = text[:cut] + rng.choice(PARENTHETICALS) + text[cut:]
    return paragraphs


def make_blocks(rng: random.Random, corpus: Corpus, pool: Sequence[str], stamp: str) -> list[Block]:
    """Paragraphs with 0-4 sub-headings and 0-3 captioned images placed between them."""
    paragraphs = make_paragraphs(rng, corpus)
    slots = range(1, len(paragraphs))
    heads = corpus.subheadings + tuple(f"{a}，{b}" for a, b in zip(pool[::7], pool[3::7], strict=False))
    subs = {i: rng.choice(heads) for i in rng.sample(slots, min(rng.randint(0, 4), len(slots)))}
    captions = corpus.captions + tuple(pool[::11])
    images = {i: rng.choice(captions) for i in rng.sample(slots, min(rng.randint(0, 3), len(slots)))}
    blocks: list[Block] = []
    for i, text in enumerate(paragraphs):
        if i in subs:
            blocks.append(Block("subheading", subs[i]))
        if i in images:
            blocks.append(Block("image", images[i], f"W0{stamp}{len(blocks):02d}.jpg"))
        blocks.append(Block("paragraph", text))
    return [Block(b.kind, gbk_safe(b.text), b.image) for b in blocks]


def make_decor(rng: random.Random, keywords: Sequence[str]) -> Decor:
    """Spam header shape and keywords, a redirect host and a hidden off-host link farm."""

    def host() -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(8)) + ".example"

    farm = tuple(
        (f"http://{host()}/vod/{rng.randint(1000, 99999)}.html", rng.choice(keywords))
        for _ in range(rng.randint(5, 15))
    )
    picked = tuple(rng.sample(list(keywords), rng.randint(2, len(keywords))))
    return Decor(rng.choice(HEADER_SHAPES), picked, host(), farm)


def edit_blocks(blocks: Sequence[Block], rng: random.Random, corpus: Corpus) -> tuple[Block, ...]:
    """The versioning edit: one more sentence at the end of the last paragraph."""
    last = max(i for i, b in enumerate(blocks) if b.kind == "paragraph")
    extra = rng.choice(corpus.sentences)
    edited = Block("paragraph", blocks[last].text + extra)
    return (*tuple(blocks[:last]), edited, *tuple(blocks[last + 1 :]))


def generate(seed: int, count: int, changed: int, corpus: Corpus) -> tuple[Article, ...]:
    """All articles, ascending by id and by time; the first `changed` ones edited."""
    rng = random.Random(seed)
    pool = clauses(corpus)
    minutes = sorted(rng.sample(range(MINUTES_IN_YEAR), count))
    variants = [VARIANT_NAMES[i % len(VARIANT_NAMES)] for i in range(count)]
    rng.shuffle(variants)
    articles = []
    next_id = FIRST_ID
    for n, minute in enumerate(minutes):
        published = YEAR_START + timedelta(minutes=minute)
        ident = str(next_id)
        next_id += rng.randint(1, 5)
        source = rng.choice(corpus.sources)
        blocks = make_blocks(rng, corpus, pool, f"{published:%Y%m%d}{ident}")
        if n < changed:
            blocks = list(edit_blocks(blocks, random.Random(f"{seed}:{ident}:edit"), corpus))
        articles.append(
            Article(
                id=ident,
                column=rng.choices(COLUMNS, COLUMN_WEIGHTS)[0],
                published=published,
                title=gbk_safe(make_title(rng, pool)),
                source=source,
                reporters=tuple(rng.sample(corpus.reporters, rng.randint(1, 3))),
                byline_outlet=BYLINE_OUTLETS[source],
                blocks=tuple(blocks),
                charset_variant=variants[n],
                layout=rng.randrange(2),
                decor=make_decor(rng, corpus.spam_keywords),
                edited=n < changed,
            )
        )
    return tuple(articles)


def _plain(body: bytes, ctype: str) -> Response:
    return 200, [("Content-Type", ctype)], body


class Portal:
    """A deterministic replica of the portal: `seed` fixes every article and page."""

    def __init__(
        self,
        seed: int = 0,
        articles: int = 300,
        changed: int = 0,
        base_url: str = "http://127.0.0.1:8000",
        changed_at: datetime | None = None,
    ) -> None:
        self.seed = seed
        # Edits happen when the replica starts, as on a live portal: a crawler that
        # compares <lastmod> with its last fetch sees them.
        self.changed_at = changed_at or datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0)
        self.base_url = base_url.rstrip("/")
        self.articles = generate(seed, articles, changed, load_corpus())
        self._by_id = {a.id: a for a in self.articles}
        self._by_path = {a.path: a for a in self.articles}
        self._images = {a.directory + b.image for a in self.articles for b in a.blocks if b.image}
        self._cache: dict[str, Response] = {}

    @property
    def ids(self) -> list[str]:
        return [a.id for a in self.articles]

    def article(self, ident: str) -> Article:
        return self._by_id[ident]

    def column_articles(self, column: Column) -> list[Article]:
        """Articles of a column, newest first (list page order)."""
        return [a for a in reversed(self.articles) if a.column == column]

    def absolute(self, path: str) -> str:
        return self.base_url + path

    def truth(self, ident: str) -> dict[str, object]:
        """The clean record of an article: what a perfect scraper would produce."""
        a = self._by_id[ident]
        return {
            "id": a.id,
            "url": self.absolute(a.path),
            "title": a.title,
            "published_at": a.published.isoformat(),
            "source": a.source,
            "reporters": list(a.reporters),
            "section": a.column.name,
            "breadcrumb": ["首頁", a.column.channel_name, a.column.name],
            "paragraphs": a.texts("paragraph"),
            "subheadings": a.texts("subheading"),
            "captions": a.texts("image"),
            "images": [
                {"url": self.absolute(a.directory + b.image), "caption": b.text} for b in a.blocks if b.kind == "image"
            ],
            "text": "\n".join(b.text for b in a.blocks),
            "charset_variant": a.charset_variant,
        }

    def clean_html(self, ident: str) -> str:
        """The undamaged article page, before charset <meta> and damage."""
        return pages.render_article(self._by_id[ident])

    def page(self, path: str) -> Response:
        """Status, headers and body for a request path (query string ignored)."""
        path = path.split("?", 1)[0].split("#", 1)[0]
        cached = self._cache.get(path)
        if cached is None:
            cached = self._respond(path)
            # Only pages that exist are kept: a crawler probing random paths must not grow the cache.
            if cached[0] == 200:
                self._cache[path] = cached
        return cached

    def _respond(self, path: str) -> Response:
        if path in self._by_path:
            article = self._by_path[path]
            headers, body = encode_page(pages.render_article(article), article.charset_variant)
            return 200, headers, body
        if path in self._images:
            return _plain(JPEG, "image/jpeg")
        if path == "/robots.txt":
            return _plain(self.robots().encode("ascii"), "text/plain")
        if path == "/sitemap.xml":
            return _plain(self.sitemap().encode("utf-8"), "application/xml; charset=utf-8")
        if path.startswith("/_truth/"):
            return self._truth_response(path)
        html = self._html(path)
        if html is None:
            headers, body = encode_page(pages.render_not_found(), "gb2312")
            return 404, headers, body
        headers, body = encode_page(html, "gb2312")
        return 200, headers, body

    def _truth_response(self, path: str) -> Response:
        ctype = "application/json; charset=utf-8"
        if path == "/_truth/":
            index = [{"id": a.id, "url": self.absolute(a.path)} for a in self.articles]
            return _plain(json.dumps(index, ensure_ascii=False).encode("utf-8"), ctype)
        match = _TRUTH.fullmatch(path)
        if match is None or match.group(1) not in self._by_id:
            return 404, [("Content-Type", ctype)], b'{"error": "no such article"}'
        body = json.dumps(self.truth(match.group(1)), ensure_ascii=False, indent=1)
        return _plain(body.encode("utf-8"), ctype)

    def _html(self, path: str) -> str | None:
        """Clean HTML of the home, channel and list pages; None when there is none."""
        if path in ("/", "/index.html"):
            return pages.render_home(COLUMNS, list(reversed(self.articles))[:HOME_LATEST])
        for channel in {c.channel_path: c.channel_name for c in COLUMNS}.items():
            if path in (channel[0], channel[0] + "index.html"):
                columns = [c for c in COLUMNS if c.channel_path == channel[0]]
                return pages.render_channel(channel[1], columns)
        for column in COLUMNS:
            if path.startswith(column.path):
                return self._list_html(column, path[len(column.path) :] or "index.html")
        return None

    def _list_html(self, column: Column, name: str) -> str | None:
        match = _LIST_PAGE.fullmatch(name)
        if match is None:
            return None
        index = int(match.group(1) or 0)
        items = self.column_articles(column)
        total = max(1, math.ceil(len(items) / PAGE_SIZE))
        if index >= total or name == "index_0.html":
            return None
        chunk = items[index * PAGE_SIZE : (index + 1) * PAGE_SIZE]
        return pages.render_list(column, chunk, index, total)

    def robots(self) -> str:
        return f"User-agent: *\nDisallow: /_truth/\nDisallow: /search/\nSitemap: {self.absolute('/sitemap.xml')}\n"

    def sitemap(self) -> str:
        """Every article URL; an edited article's lastmod is when the replica started."""
        urls = "".join(
            f"<url><loc>{self.absolute(a.path)}</loc>"
            f"<lastmod>{(self.changed_at if a.edited else a.published).isoformat()}</lastmod></url>\n"
            for a in self.articles
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{urls}</urlset>\n"
        )


__all__ = ["COLUMNS", "Portal", "Response", "content_type"]
