"""Tests of the newsarchive command line: the subcommands it offers and its argument errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scraper.cli import CliError, build_settings, main, prepare_demo_dir

SUBCOMMANDS = ("demo", "portal", "crawl", "clean", "verify", "stats", "export", "browse")


def test_help_lists_every_subcommand() -> None:
    result = subprocess.run([sys.executable, "-m", "scraper", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for name in SUBCOMMANDS:
        assert f"    {name} " in result.stdout, name


def test_crawl_without_start_url_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crawl", "--out", "x"]) == 2
    assert "--start-url" in capsys.readouterr().err


def test_crawl_without_out_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["crawl", "--start-url", "http://127.0.0.1:1/"])
    assert exit_info.value.code == 2
    assert "--out" in capsys.readouterr().err


def test_bad_setting_override(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["crawl", "--start-url", "http://127.0.0.1:1/", "--out", str(tmp_path), "-s", "NOEQUALS"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_settings_come_from_the_module_not_the_cwd(tmp_path: Path) -> None:
    settings = build_settings(tmp_path / "a", "cid-1", ["CONCURRENT_REQUESTS_PER_DOMAIN=2"], "warning")
    assert settings.get("BOT_NAME") == "newsarchive"
    assert settings.get("ARCHIVE_DIR") == str(tmp_path / "a")
    assert settings.get("ARCHIVE_CRAWL_ID") == "cid-1"
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 2
    assert settings.get("LOG_LEVEL") == "WARNING"


def test_demo_dir_is_cleared_only_if_it_is_an_archive(tmp_path: Path) -> None:
    old = tmp_path / "demo"
    (old / "manifests").mkdir(parents=True)
    (old / "index.json").write_text("{}")
    prepare_demo_dir(old)
    assert not old.exists()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(CliError, match="refusing"):
        prepare_demo_dir(other)
    assert (other / "notes.txt").exists()


def test_delegated_subcommand_passes_its_arguments() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scraper", "verify", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "usage: newsarchive verify" in result.stdout
