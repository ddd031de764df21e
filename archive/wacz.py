"""WACZ export: the archive's WARC files packed by py-wacz into one file that ReplayWeb.page and pywb open.
Its pages.jsonl lists every article (the capture of its latest version) under its restored title."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from .layout import ArchiveFile, check_archive_root
from .output import atomic_output_path
from .reader import iter_records, readable_warcs

logger = logging.getLogger(__name__)

PAGES_ENTRY = "pages/pages.jsonl"
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Articles"}


class WaczError(ValueError):
    """A WACZ that cannot be made from this archive; the message says why and what to do."""


@dataclass(frozen=True)
class WaczSummary:
    """What went into a WACZ."""

    warc_files: int
    pages: int
    bytes: int


def capture_dates(warc_path: Path, offsets: Iterable[int]) -> dict[int, str]:
    """The WARC-Date of the record at each offset of one WARC file (the file is opened once)."""
    dates = {}
    with open(warc_path, "rb") as stream:
        for offset in sorted(set(offsets)):
            stream.seek(offset)
            record = next(iter(ArchiveIterator(stream)))
            dates[offset] = record.rec_headers.get_header("WARC-Date")
    return dates


def article_pages(root: Path, warcs: list[ArchiveFile]) -> list[dict[str, Any]]:
    """One page per article: the URL and WARC-Date of the capture its latest version points to, and its restored title.
    Articles without a capture in `warcs` (crawled with WARC capture off) have no page."""
    paths = {warc.name: warc.path for warc in warcs}
    by_file: dict[str, list[dict[str, Any]]] = {}
    for record in iter_records(root, latest_only=True):
        if record.get("warc_file") in paths and isinstance(record.get("warc_offset"), int):
            by_file.setdefault(record["warc_file"], []).append(record)
    pages = []
    for name, records in by_file.items():
        dates = capture_dates(paths[name], (record["warc_offset"] for record in records))
        pages += [
            {"id": record["id"], "url": record["url"], "ts": dates[record["warc_offset"]], "title": record["title"]}
            for record in records
        ]
    return sorted(pages, key=lambda page: (page["ts"], page["url"]))


def pages_jsonl(pages: list[dict[str, Any]]) -> str:
    """pages.jsonl as py-wacz takes it (`--pages`): a header line, then one page per line."""
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in [PAGES_HEADER, *pages])


def _wacz_main() -> Any:
    try:
        from wacz.main import main
    except ImportError as exc:
        raise WaczError(
            f"export --wacz needs the wacz package ({exc}): pip install 'newsarchive[wacz]' (or .venv/bin/pip install wacz)"
        ) from exc
    return main


def packed_pages(wacz_path: Path) -> list[dict[str, Any]]:
    """The pages listed in a WACZ's pages/pages.jsonl (its header line left out)."""
    with zipfile.ZipFile(wacz_path) as packed, packed.open(PAGES_ENTRY) as listing:
        lines = [json.loads(line) for line in listing.read().decode("utf-8").splitlines() if line.strip()]
    return [line for line in lines if "format" not in line]


def export_wacz(directory: Path | str, out: Path) -> WaczSummary:
    """Write the archive's WARC files and a page per article to the WACZ file `out`, atomically.

    Raises ArchiveRootError for a path that is not an archive, OutputPathError for an `out` inside it, WaczError when
    there is nothing to pack, py-wacz is missing, or it could not place every page.
    """
    root = check_archive_root(Path(directory))
    create = _wacz_main()
    with (
        atomic_output_path(out, root, "wacz") as target,
        tempfile.TemporaryDirectory(prefix="newsarchive-wacz-") as work,
    ):
        warcs = readable_warcs(root)
        if not warcs:
            raise WaczError(
                f"{root}: holds no WARC files, so there is nothing to replay (a crawl run with "
                "ARCHIVE_WARC_ENABLED=false keeps no captures; export the records with --format instead)"
            )
        pages = article_pages(root, warcs)
        listing = Path(work) / "pages.jsonl"
        listing.write_text(pages_jsonl(pages), encoding="utf-8")
        arguments = ["create", "-o", str(target), "-p", str(listing), "--title", f"newsarchive: {root.name}"]
        said = io.StringIO()
        with contextlib.redirect_stdout(said):  # py-wacz prints its progress
            status = create([*arguments, *(str(warc.path) for warc in warcs)])
        logger.debug("py-wacz said: %s", said.getvalue())
        if status:
            raise WaczError(f"py-wacz could not create the WACZ (status {status}): {said.getvalue().strip()}")
        placed = len(packed_pages(target))
        if placed != len(pages):
            unmatched = [line for line in said.getvalue().splitlines() if "unable to find a match" in line]
            raise WaczError(
                f"py-wacz placed {placed} of {len(pages)} article pages ({'; '.join(unmatched[:3])}): "
                f"run 'newsarchive verify {root}', every record must point at its capture"
            )
    summary = WaczSummary(len(warcs), len(pages), out.stat().st_size)
    logger.info("packed %d WARC files and %d pages into %s", summary.warc_files, summary.pages, out)
    return summary
