"""`newsarchive schedule`: crontab lines and systemd timers for recurring crawls, and the guarded crontab install."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from scraper.cli import main
from scraper.replica.testing import Replica
from scraper.schedule import ScheduleError, cron_fields

URL = "http://127.0.0.1:8000/"


def test_cron_fields_for_even_intervals() -> None:
    assert cron_fields(timedelta(minutes=15)) == "*/15 * * * *"
    assert cron_fields(timedelta(hours=6)) == "7 */6 * * *"
    assert cron_fields(timedelta(days=1)) == "7 3 * * *"
    assert cron_fields(timedelta(days=7)) == "7 3 * * 0"


def test_cron_refuses_an_interval_it_cannot_keep_and_points_to_systemd() -> None:
    with pytest.raises(ScheduleError, match="--format systemd"):
        cron_fields(timedelta(hours=7))


def test_crontab_line_runs_an_incremental_crawl_with_absolute_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "archive-data"
    assert main(["schedule", "--every", "6h", "--start-url", URL, "--out", str(out), "--since", "2025-01-01"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("7 */6 * * * flock -n ")
    assert f"--out {out} " in line and "PORTAL_SINCE=2025-01-01" in line
    assert line.endswith(f"# newsarchive schedule: {out}")


def test_systemd_units_carry_the_interval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["schedule", "--every", "7h", "--start-url", URL, "--out", str(tmp_path / "a"), "--format", "systemd"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "# --- newsarchive-crawl.service" in printed and "# --- newsarchive-crawl.timer" in printed
    assert "OnUnitInactiveSec=7h" in printed
    assert "ExecStart=flock -n " in printed


def fake_crontab(tmp_path: Path) -> tuple[Path, Path]:
    """A `crontab` stand-in keeping the table in a file: `-l` prints it, `-` replaces it."""
    table = tmp_path / "table"
    program = tmp_path / "crontab"
    program.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-l" ]; then [ -f "{table}" ] || {{ echo "no crontab for you" >&2; exit 1; }}; cat "{table}"; '
        f'else cat > "{table}"; fi\n',
        encoding="utf-8",
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program, table


def test_install_without_yes_refuses_and_leaves_the_crontab_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program, table = fake_crontab(tmp_path)
    args = [
        "schedule",
        "--every",
        "1d",
        "--start-url",
        URL,
        "--out",
        str(tmp_path / "a"),
        "--install",
        "--crontab",
        str(program),
    ]
    assert main(args) == 2
    assert "add --yes" in capsys.readouterr().err
    assert not table.exists()


def test_install_replaces_its_own_line_and_keeps_the_others(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    program, table = fake_crontab(tmp_path)
    table.write_text("0 1 * * * backup.sh\n", encoding="utf-8")
    base = [
        "schedule",
        "--start-url",
        URL,
        "--out",
        str(tmp_path / "a"),
        "--install",
        "--yes",
        "--crontab",
        str(program),
    ]
    assert main([*base, "--every", "1d"]) == 0
    assert main([*base, "--every", "6h"]) == 0
    lines = table.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "0 1 * * * backup.sh"
    assert len(lines) == 2 and lines[1].startswith("7 */6 * * * ")
    assert "installed in your crontab" in capsys.readouterr().out


def test_the_printed_cron_command_crawls_into_the_archive(
    replica: Replica, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "archive-data"
    assert (
        main(["schedule", "--every", "1h", "--start-url", replica.url, "--out", str(out), "--max-articles", "3"]) == 0
    )
    line = capsys.readouterr().out.strip()
    command = " ".join(line.split(" ")[5:])  # what cron hands to /bin/sh, after the five time fields
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    ran = subprocess.run(["/bin/sh", "-c", command], cwd="/", env=env, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, (tmp_path / "archive-data.crawl.log").read_text(errors="replace")
    [manifest] = (out / "manifests").glob("*.json")
    assert json.loads(manifest.read_text(encoding="utf-8"))["summary"]["archived"] == 3
