"""Benchmark the cleaner against trafilatura and ftfy on the replica's pages, in one run.

Prints pages per second (ratio to trafilatura's bare_extraction) and character error rates; each tool's
one-time start-up is timed apart, on the first page.
Run: `.venv/bin/python bench/bench_cleaner.py [--articles 300] [--seed 0]`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import ftfy
from rapidfuzz.distance import Levenshtein
from trafilatura import bare_extraction

from scraper.cleaner import clean_page
from scraper.cleaner.decoding import decode_body
from scraper.cleaner.extract import extract_html
from scraper.cleaner.metrics import MARKER, char_error_rate
from scraper.replica.site import Portal


@dataclass
class Page:
    body: bytes
    headers: dict[str, str]
    url: str
    truth: str
    variant: str


def naive_text(page: Page) -> str:
    """The page decoded as declared (what a crawler sees), body blocks found by our selectors."""
    decoded = decode_body(page.body, page.headers)
    html = decoded.text if decoded.text is not None else page.body.decode("gb18030", "replace")
    return "\n".join(b.text for b in extract_html(html, page.url).blocks if b.text)


def newsarchive_text(page: Page) -> str:
    return clean_page(page.body, page.url, page.headers).text


def ftfy_text(page: Page) -> str:
    return ftfy.fix_text(naive_text(page))


def trafilatura_text(page: Page) -> str:
    decoded = decode_body(page.body, page.headers)
    html = decoded.text if decoded.text is not None else page.body.decode("gb18030", "replace")
    result = bare_extraction(html, url=page.url, with_metadata=False)
    if result is None:
        return ""
    text = result.text if hasattr(result, "text") else result.get("text")
    return text or ""


def load_pages(articles: int, seed: int) -> list[Page]:
    portal = Portal(seed=seed, articles=articles)
    pages = []
    for article in portal.articles:
        truth = portal.truth(article.id)
        _, headers, body = portal.page(article.path)
        pages.append(Page(body, dict(headers), str(truth["url"]), str(truth["text"]), str(truth["charset_variant"])))
    return pages


def timed(tool: Callable[[Page], str], pages: list[Page]) -> tuple[list[str], float]:
    start = time.process_time()
    outputs = [tool(page) for page in pages]
    return outputs, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pages = load_pages(args.articles, args.seed)
    tools = {
        "newsarchive": newsarchive_text,
        "trafilatura": trafilatura_text,
        "ftfy (after naive decoding)": ftfy_text,
        "naive decoding": naive_text,
    }
    # Each tool's one-time start-up (tables and models loaded on first use) is timed apart, on the first page, as
    # bench_crawl.py does: a crawl's cleaning workers pay it once, and pages/s is the rate after it.
    startup = {name: timed(tool, pages[:1])[1] for name, tool in tools.items()}
    results = {name: timed(tool, pages) for name, tool in tools.items()}
    reference = len(pages) / results["trafilatura"][1]
    raw = [i for i, p in enumerate(pages) if "decoded" not in p.variant]
    served = [i for i, p in enumerate(pages) if "decoded" in p.variant]
    print(f"{len(pages)} replica pages (seed {args.seed}); {len(raw)} raw GBK, {len(served)} decoded on the server")
    print("| tool | pages/s | speed vs trafilatura | CER all | CER raw GBK pages | CER server-decoded pages |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (outputs, seconds) in results.items():
        rate = len(pages) / seconds
        cells = [edit_rate(pages, outputs, group) for group in (raw + served, raw, served)]
        print(f"| {name} | {rate:.1f} | {rate / reference:.2f}x | " + " | ".join(f"{c:.3f}%" for c in cells) + " |")
    ours = results["newsarchive"][0]
    outside = [marked_rate(pages, ours, group) for group in (raw + served, raw, served)]
    markers = sum(text.count(MARKER) for text in ours)
    print(f"| newsarchive, outside its {markers} marked spots | | | " + " | ".join(f"{c:.4f}%" for c in outside) + " |")
    print("one-time start-up, first page: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in startup.items()))


def edit_rate(pages: list[Page], outputs: list[str], indices: list[int]) -> float:
    """Levenshtein distance per truth character, in percent (markers count as wrong characters)."""
    truth = sum(len(pages[i].truth) for i in indices)
    errors = sum(Levenshtein.distance(pages[i].truth, outputs[i]) for i in indices)
    return errors / max(truth, 1) * 100


def marked_rate(pages: list[Page], outputs: list[str], indices: list[int]) -> float:
    """Errors outside marked spots per truth character, in percent."""
    truth = sum(len(pages[i].truth) for i in indices)
    errors = sum(char_error_rate(pages[i].truth, outputs[i]) * len(pages[i].truth) for i in indices)
    return errors / max(truth, 1) * 100


if __name__ == "__main__":
    main()
