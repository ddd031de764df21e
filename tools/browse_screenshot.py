"""Take the README's screenshots of `newsarchive browse`: an article page of the demo archive, and the sample archive's
article with every kind of repair, one highlight explained. Needs Debian's chromium (`make browser`).

Run: `.venv/bin/python tools/browse_screenshot.py` (runs the demo into a temporary directory first), or
`--archive DIR` to use an archive already crawled. The demo article shown is the one with the most repairs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from archive.browse.testing import build_browse_sample, launch_chromium, start_browse
from archive.reader import iter_records

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO / "tests" / "data" / "browse" / "damaged_article.json"
VIEWPORT = {"width": 1400, "height": 1000}


def most_repaired(archive: Path) -> str:
    """The id of the latest record with the most listed repairs (the first article when none lists any)."""
    best = max(
        iter_records(archive, latest_only=True),
        key=lambda r: (len(r.get("cleaning", {}).get("repairs") or []), -int(r["id"])),
    )
    return str(best["id"])


def shoot(archive: Path, article_id: str, out: Path, hover: str | None) -> None:
    with (
        tempfile.TemporaryDirectory() as cache,
        start_browse(archive, cache_dir=Path(cache)) as url,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{url}article/{article_id}")
        page.wait_for_load_state("load")
        if hover and page.locator(hover).count():
            page.locator(hover).first.hover()
            page.locator(f"{hover} .tip").first.wait_for(state="visible")
        page.screenshot(path=str(out))
        browser.close()
    print(f"wrote {out} (article {article_id} of {archive})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, help="an archive to show (default: run the demo first)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "browse-demo.png")
    parser.add_argument("--sample-out", type=Path, default=REPO / "docs" / "browse-repairs.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        archive = args.archive
        if archive is None:
            archive = Path(work) / "demo-archive"
            command = [sys.executable, "-m", "scraper", "demo", "--out", str(archive)]
            subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
        shoot(archive, most_repaired(archive), args.out, "mark.k-bytes")
        sample = build_browse_sample(Path(work) / "sample", json.loads(SAMPLE_DATA.read_text(encoding="utf-8")))
        shoot(sample.root, sample.damaged, args.sample_out, ".restored mark.k-bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
