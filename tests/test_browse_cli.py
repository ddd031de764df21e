"""`newsarchive browse` as a command: its usage errors, and an end-to-end run on a real crawl of the replica portal."""

from __future__ import annotations

import hashlib
import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archive.browse.testing import start_browse
from archive.reader import iter_records
from scraper.cli import main
from scraper.replica.testing import Replica


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_directory_that_is_no_archive_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["browse", str(tmp_path)]) == 1
    assert "is not an archive: it has no articles/, quarantine/ or manifests/" in capsys.readouterr().err
    assert main(["browse", str(tmp_path / "missing")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_serving_beyond_loopback_needs_allow_remote(browse_sample: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["browse", str(browse_sample.root), "--host", "0.0.0.0"])
    assert exit_info.value.code == 2
    assert "refusing to serve on non-loopback host" in capsys.readouterr().err


def test_a_cache_directory_inside_the_archive_is_refused(
    browse_sample: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["browse", str(browse_sample.root), "--cache-dir", str(browse_sample.root / "cache")])
    assert "is inside the archive; browse never writes there" in capsys.readouterr().err
    assert not (browse_sample.root / "cache").exists()


def test_browsing_a_real_crawl_shows_every_article_beside_its_capture(
    replica: Replica, tmp_path_factory: pytest.TempPathFactory, crawl: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    root = tmp_path_factory.mktemp("browse-crawl") / "archive"
    result = crawl(replica.url, root)
    assert result.returncode == 0, result.stderr[-2000:]
    records = list(iter_records(root))
    before = snapshot(root)
    cache = tmp_path_factory.mktemp("browse-crawl-cache")
    with start_browse(root, cache_dir=cache) as url:
        assert url.startswith("http://127.0.0.1:")
        status, listing = get(url)
        assert status == 200 and f"{len(records)} articles".encode() in listing
        record = records[0]
        status, page = get(f"{url}article/{record['id']}")
        text = page.decode("utf-8")
        assert status == 200 and "Page as captured" in text and "Traceback" not in text
        assert f"decoded as {'gb18030' if record['charset'] == 'gbk' else record['charset']}" in text
        status, raw = get(f"{url}raw/{record['id']}")
        body = raw.split(b"\r\n\r\n", 2)[2].removesuffix(b"\r\n\r\n")
        assert status == 200 and hashlib.sha256(body).hexdigest() == record["content_sha256"]
        status, as_json = get(f"{url}article/{record['id']}.json")
        assert status == 200 and json.loads(as_json) == record
        status, missing = get(f"{url}article/0")
        assert status == 404 and b"No article with id" in missing
    assert snapshot(root) == before
    assert [p.suffix for p in cache.iterdir()] == [".sqlite"]
