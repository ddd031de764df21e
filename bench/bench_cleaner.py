"""Benchmark the cleaner against trafilatura and ftfy on the replica's pages, in one run.

Prints pages per second (ratio to trafilatura's bare_extraction), character error rates, and the time of each
stage of our clean beside trafilatura's whole page; each tool's one-time start-up is timed apart, on the first page.
Each tool runs `--rounds` times, the rounds interleaved, and keeps its fastest: a shared machine's load comes and goes.
Run: `.venv/bin/python bench/bench_cleaner.py [--articles 300] [--seed 0] [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import ftfy
from bs4 import BeautifulSoup
from rapidfuzz.distance import Levenshtein
from trafilatura import bare_extraction

from scraper.cleaner import _finish, clean_page, collector_paused
from scraper.cleaner.decoding import decode_body
from scraper.cleaner.extract import extract_html
from scraper.cleaner.metrics import MARKER, char_error_rate
from scraper.cleaner.repair import repair_gbk_bytes, repair_text
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
    parser.add_argument("--rounds", type=int, default=3)
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
    results: dict[str, tuple[list[str], float]] = {}
    stages: dict[str, float] = {}
    for _ in range(max(args.rounds, 1)):
        for name, tool in tools.items():
            outputs, seconds = timed(tool, pages)
            if name not in results or seconds < results[name][1]:
                results[name] = (outputs, seconds)
        stages = {k: min(v, stages.get(k, v)) for k, v in stage_seconds(pages).items()}
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
    print_stages(stages, results["trafilatura"][1], len(pages))


def stage_seconds(pages: list[Page]) -> dict[str, float]:
    """CPU seconds of each stage of clean_page, run in its order; BeautifulSoup's tree build is timed again apart."""
    seconds = dict.fromkeys(("decode", "repair", "extract", "finish", "tree"), 0.0)
    for page in pages:
        with collector_paused():  # as clean_page runs
            _time_stages(page, seconds)
    return seconds


def _time_stages(page: Page, seconds: dict[str, float]) -> None:
    start = time.process_time()
    decoded = decode_body(page.body, page.headers)
    decoded_at = time.process_time()
    repaired = repair_gbk_bytes(decoded.gbk_bytes) if decoded.gbk_bytes is not None else repair_text(decoded.text or "")
    repaired_at = time.process_time()
    found = extract_html(repaired.text, page.url)
    extracted_at = time.process_time()
    _finish(found, repaired, page.url, decoded.charset, strict=True)
    finished_at = time.process_time()
    BeautifulSoup(repaired.text, "lxml")
    seconds["tree"] += time.process_time() - finished_at
    seconds["decode"] += decoded_at - start
    seconds["repair"] += repaired_at - decoded_at
    seconds["extract"] += extracted_at - repaired_at
    seconds["finish"] += finished_at - extracted_at


def print_stages(seconds: dict[str, float], trafilatura: float, pages: int) -> None:
    """Where a clean's time goes, per page, beside trafilatura's whole extraction."""
    total = sum(v for k, v in seconds.items() if k != "tree")
    print("| newsarchive stage | ms per page | share |")
    print("|---|---:|---:|")
    for name in ("decode", "repair", "extract", "finish"):
        print(f"| {name} | {seconds[name] / pages * 1000:.2f} | {seconds[name] / total:.0%} |")
    print(
        f"| of extract, BeautifulSoup's tree build | {seconds['tree'] / pages * 1000:.2f} | {seconds['tree'] / total:.0%} |"
    )
    print(f"| trafilatura, whole page | {trafilatura / pages * 1000:.2f} | |")
    repair = seconds["repair"] / pages * 1000
    rest = total / pages * 1000 - repair
    whole = trafilatura / pages * 1000
    print(
        f"a clean without its repair takes {rest:.2f} ms per page, {rest / whole:.0%} of trafilatura's whole page: "
        f"to be as fast, the repair would have {whole - rest:.2f} ms per page (it takes {repair:.2f})"
    )


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
