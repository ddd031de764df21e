"""Clean HTML of the replica's pages, shaped like the portal's TRS templates.

Output is a str with `&nbsp;` entities only (NBSP is not in GBK); `variants` adds charset and damage.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape as _escape_html

from scraper.replica.model import Article, Block, Column

# The publishers write these full-width; the portal turns them into ASCII and the
# cleaner leaves them so (PORTAL.md's finished title keeps `|`), so truths hold ASCII.
PUBLISHED_FORMS = str.maketrans({"|": "｜", "%": "％", "+": "＋"})


def escape(text: str) -> str:
    """Text as the publisher wrote it, escaped for HTML."""
    return _escape_html(text.translate(PUBLISHED_FORMS))


SITE_NAME = "資訊門戶"
# The class names vary across the family of sites; both shapes must stay parseable.
TITLE_CLASSES = ("article-title", "title")
BODY_CLASSES = ("TRS_Editor", "TRS_UEDITOR")
SPAM_SEPARATORS = {"comma": "，", "pipe": "丨", "question": "，"}
GT = "&nbsp;&gt;&nbsp;"


def _head(title: str, extra: str = "") -> str:
    # `variants.insert_meta` puts the charset <meta> right after "<head>".
    return f"<!DOCTYPE html>\n<html>\n<head>\n<title>{escape(title)}</title>\n{extra}</head>\n"


def spam_line(shape: str, keywords: Sequence[str]) -> str:
    """The spam header's text in one of the shapes seen on the family of sites."""
    if shape == "lone":
        return "？"
    line = SPAM_SEPARATORS[shape].join(keywords)
    return line + " ？" if shape == "question" else line


def _breadcrumb(column: Column) -> str:
    links = [
        '<a href="/">首頁</a>',
        f'<a href="{column.channel_path}">{column.channel_name}</a>',
        f'<a href="{column.path}">{column.name}</a>',
    ]
    return f'<div class="position">{GT.join(links)}</div>\n'


def _block(block: Block) -> str:
    if block.kind == "paragraph":
        return f"<p>&nbsp;&nbsp;{escape(block.text)}</p>\n"
    if block.kind == "subheading":
        return f"<p>&nbsp;&nbsp;<strong>{escape(block.text)}</strong>&nbsp;</p>\n"
    return (
        f'<p style="text-align: center"><img src="./{block.image}" alt=""/></p>\n'
        f'<p style="text-align: center">{escape(block.text)}</p>\n'
    )


def render_article(article: Article) -> str:
    """The article page: spam head and header, breadcrumb, title, info, body, byline."""
    decor = article.decor
    spam = "，".join(decor.keywords)
    head_extra = (
        f'<meta name="keywords" content="{escape(spam)}">\n'
        f'<meta name="description" content="{escape(spam)}">\n'
        f"<script>if(/baidu|sogou|so\\.com/.test(document.referrer))"
        f'{{location.href="http://{decor.redirect_host}/";}}</script>\n'
    )
    farm = "".join(f'<a href="{escape(url)}">{escape(kw)}</a>\n' for url, kw in decor.farm)
    blocks = "".join(_block(b) for b in article.blocks)
    return (
        _head(f"{spam}_{article.title}", head_extra)
        + "<body>\n"
        + f'<div class="spam-top">{escape(spam_line(decor.header_shape, decor.keywords))}</div>\n'
        + f'<div style="display:none">\n{farm}</div>\n'
        + _breadcrumb(article.column)
        + f'<h1 class="{TITLE_CLASSES[article.layout]}">{escape(article.title)}</h1>\n'
        + '<div class="article-info">'
        + f'<span class="source">來源：{escape(article.source)}</span> '
        + f'<span class="time">{article.published:%Y-%m-%d %H:%M:%S}</span></div>\n'
        + f'<div class="{BODY_CLASSES[article.layout]}">\n{blocks}</div>\n'
        + f'<div class="editor">{escape(article.byline)}</div>\n'
        + "</body>\n</html>\n"
    )


def _nav(columns: Sequence[Column]) -> str:
    channels: dict[str, str] = {}
    for c in columns:
        channels.setdefault(c.channel_path, c.channel_name)
    links = [f'<a href="{p}">{escape(n)}</a>' for p, n in channels.items()]
    links += [f'<a href="{c.path}">{escape(c.name)}</a>' for c in columns]
    return '<div class="nav">' + " | ".join(links) + "</div>\n"


def _article_link(article: Article, href: str) -> str:
    title = escape(article.title)
    return f'<li><a href="{href}" title="{title}">{title}</a><span>{article.published:%Y-%m-%d}</span></li>\n'


def render_home(columns: Sequence[Column], latest: Sequence[Article]) -> str:
    """Home page: navigation to channels and columns, then the latest articles."""
    items = "".join(_article_link(a, a.path) for a in latest)
    return _head(SITE_NAME) + "<body>\n" + _nav(columns) + f'<ul class="latest">\n{items}</ul>\n</body>\n</html>\n'


def render_channel(name: str, columns: Sequence[Column]) -> str:
    """Channel page: links to its columns."""
    items = "".join(f'<li><a href="{c.path}">{escape(c.name)}</a></li>\n' for c in columns)
    return (
        _head(f"{name}_{SITE_NAME}")
        + "<body>\n"
        + f'<div class="position"><a href="/">首頁</a>{GT}{escape(name)}</div>\n'
        + f'<ul class="columns">\n{items}</ul>\n</body>\n</html>\n'
    )


def list_page_name(index: int) -> str:
    """TRS list page file names: `index.html`, `index_1.html`, ..."""
    return "index.html" if index == 0 else f"index_{index}.html"


def render_list(column: Column, items: Sequence[Article], index: int, total: int) -> str:
    """One TRS list page of a column, newest first, with both kinds of pagination."""
    lis = "".join(_article_link(a, "./" + a.path[len(column.path) :]) for a in items)
    pager = [f'<script>createPageHTML({total}, {index}, "index", "html");</script>']
    if index > 0:
        pager.append(f'<a href="{list_page_name(index - 1)}">上一頁</a>')
    if index + 1 < total:
        pager.append(f'<a href="{list_page_name(index + 1)}">下一頁</a>')
    return (
        _head(f"{column.name}_{column.channel_name}_{SITE_NAME}")
        + "<body>\n"
        + f'<div class="position"><a href="/">首頁</a>{GT}'
        + f'<a href="{column.channel_path}">{escape(column.channel_name)}</a>{GT}'
        + f"{escape(column.name)}</div>\n"
        + f'<ul class="list">\n{lis}</ul>\n'
        + '<div class="page">'
        + "\n".join(pager)
        + "</div>\n</body>\n</html>\n"
    )


def render_not_found() -> str:
    return _head("404") + "<body>\n<p>頁面不存在</p>\n</body>\n</html>\n"
