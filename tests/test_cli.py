"""Tests of the newsarchive command line: the subcommands it offers and its argument errors."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from archive.writer import DirectoryLock
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
    (old / "ledger.jsonl").write_text("")  # every archive has one since the ledger exists
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


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("file:///etc/passwd", "http or https, not 'file'"),
        ("ftp://127.0.0.1/", "http or https, not 'ftp'"),
        ("http://127.0.0.1:99999/", "bad port"),
        ("http://127.0.0.1:port/", "bad port"),
        ("http:///index.html", "names no host"),
        ("http://127.0.0.1:0/", "bad port (0)"),
        ("http://[::1/", "is not a URL (Invalid IPv6 URL)"),
        ("http://exa mple.com/", "'exa mple.com' is not a host name or IP address"),
    ],
)
def test_crawl_refuses_a_start_url_it_cannot_crawl(url: str, says: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scraper", "crawl", "--start-url", url, "--out", str(tmp_path / "a")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert says in result.stderr and "e.g. http://" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "a").exists()  # refused before anything was created


def portal(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scraper", "portal", "--articles", "3", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_portal_refuses_a_port_out_of_range_without_a_traceback() -> None:
    result = portal("--port", "99999")
    assert result.returncode == 2
    assert "--port 99999 is not a TCP port" in result.stderr and "Traceback" not in result.stderr


def test_portal_on_a_port_in_use_says_so_without_a_traceback() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = portal("--port", str(taken.getsockname()[1]))
    assert result.returncode == 2
    assert "cannot serve on 127.0.0.1 port" in result.stderr and "pick another --port" in result.stderr
    assert "Traceback" not in result.stderr


def test_portal_serves_on_ipv6_loopback() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "scraper", "portal", "--host", "::1", "--articles", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "at http://[::1]:" in line, line
        url = line.rsplit(" ", 1)[1].strip()
        with urllib.request.urlopen(url + "robots.txt", timeout=10) as response:
            assert b"Sitemap:" in response.read()
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_a_second_crawl_into_a_busy_archive_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    running = DirectoryLock(tmp_path / "articles")
    running.acquire()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "scraper", "crawl", "--start-url", "http://127.0.0.1:1/", "--out", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        running.release()
    assert result.returncode == 2
    assert f"another crawl is writing to {tmp_path}" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles"]
