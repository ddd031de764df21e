"""`newsarchive clean PATH|-`: restore one captured page (HTML bytes or text) and print it.

JSON prints the full record; text prints the restored title and paragraphs, one per line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scraper.cleaner import MAX_BODY_BYTES, CleanError, clean_page, clean_text_bytes
from scraper.cleaner.article import Article

HTML_SNIFF = (b"<!doctype", b"<html", b"<head", b"<body", b"<meta", b"<div", b"<p")


def looks_like_html(data: bytes) -> bool:
    head = data[:2048].lstrip().lower()
    return any(marker in head for marker in HTML_SNIFF)


def read_input(path: str) -> bytes:
    """The input's bytes, read up to one byte past the cleaner's limit: a larger input is refused, never held whole."""
    if path == "-":
        return sys.stdin.buffer.read(MAX_BODY_BYTES + 1)
    with Path(path).open("rb") as stream:
        return stream.read(MAX_BODY_BYTES + 1)


def input_problem(data: bytes) -> str | None:
    """Why `data` is no input to clean (empty, or over the limit), or None.

    >>> input_problem(b"  \\n")
    'the input is empty: nothing to clean'
    """
    if len(data) > MAX_BODY_BYTES:
        return f"the input exceeds the cleaner's limit of {MAX_BODY_BYTES:,} bytes: not an article page"
    if not data.strip():
        return "the input is empty: nothing to clean"
    return None


def clean_bytes(data: bytes, url: str | None) -> Article:
    """HTML goes through the page cleaner; anything else is captured text, decoded from its bytes."""
    if looks_like_html(data):
        return clean_page(data, url, strict=False)
    return clean_text_bytes(data, url)


def as_text(article: Article) -> str:
    lines = [article.title, *article.text.split("\n")]
    return "\n".join(line for line in lines if line) + "\n"


def clean_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="newsarchive clean",
        description="Restore a page of the portal (or a sister site): spam, pinyin, mojibake, punctuation.",
    )
    parser.add_argument("path", help="an HTML file saved from the portal, a text capture, or - for stdin")
    parser.add_argument("--url", help="the page's URL (gives the article id and absolute image URLs)")
    parser.add_argument(
        "--format",
        choices=("json", "text"),
        default="json",
        help="json: the full record; text: title then paragraphs, one per line",
    )
    args = parser.parse_args(argv)
    try:
        data = read_input(args.path)
    except OSError as error:
        print(f"newsarchive clean: cannot read {args.path}: {error.strerror}", file=sys.stderr)
        return 2
    problem = input_problem(data)
    if problem is not None:
        print(f"newsarchive clean: {args.path}: {problem}", file=sys.stderr)
        return 1
    try:
        article = clean_bytes(data, args.url)
    except CleanError as error:
        print(f"newsarchive clean: {args.path}: {error}", file=sys.stderr)
        return 1
    if args.format == "json":
        sys.stdout.write(json.dumps(article.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(as_text(article))
    return 0
