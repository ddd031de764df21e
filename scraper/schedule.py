"""`newsarchive schedule`: a crontab line or a systemd service + timer that runs a crawl every so often.
Prints by default; `--install --yes` adds (or replaces) the line in the current user's crontab."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from scraper.spiders.incremental import parse_day, parse_duration

# Minute of the hour a cron job starts: off the full hour, when every other job on a host starts.
CRON_MINUTE = 7
# Hour of the day daily and weekly jobs start (local time of the host running cron).
CRON_HOUR = 3
TAG = "# newsarchive schedule:"  # marks our crontab lines, so --install replaces rather than duplicates


class ScheduleError(Exception):
    """A schedule that cannot be written as asked; the message says what to change."""


@dataclass(frozen=True)
class Job:
    """What the scheduled command does: a local crawl, or a request to Scrapyd to run one."""

    start_url: str
    out: Path
    crawl_options: tuple[str, ...] = ()
    scrapyd: str = ""  # Scrapyd base URL; empty: crawl in a local process
    project: str = "newsarchive"
    log: Path | None = None
    python: str = sys.executable

    @property
    def lock(self) -> Path:
        return self.out.parent / f".{self.out.name}.lock"

    @property
    def log_file(self) -> Path:
        return self.log or self.out.parent / f"{self.out.name}.crawl.log"

    def argv(self) -> list[str]:
        """The command, without redirection; absolute paths, as cron and systemd start it in another cwd."""
        if self.scrapyd:
            settings = [f"setting=ARCHIVE_DIR={self.out}", *(f"setting={option}" for option in self.crawl_options)]
            data = [f"project={self.project}", "spider=portal", f"start_url={self.start_url}", *settings]
            return ["curl", "-fsS", self.scrapyd.rstrip("/") + "/schedule.json"] + [
                arg for item in data for arg in ("-d", item)
            ]
        # flock -n: a crawl still running when the next is due makes the next one a no-op, not a second writer.
        command = [
            "flock",
            "-n",
            str(self.lock),
            self.python,
            "-m",
            "scraper",
            "crawl",
            "--start-url",
            self.start_url,
            "--out",
            str(self.out),
            "--loglevel",
            "WARNING",
        ]
        return command + [arg for option in self.crawl_options for arg in ("-s", option)]


def cron_fields(every: timedelta) -> str:
    """The five time fields of a crontab line firing every `every`; only intervals cron can keep evenly."""
    minutes = int(every.total_seconds() // 60)
    if every.total_seconds() % 60 or minutes < 1:
        raise ScheduleError("cron fires on whole minutes; use an interval of at least 1m")
    if minutes < 60 and 60 % minutes == 0:
        return f"*/{minutes} * * * *" if minutes > 1 else "* * * * *"
    hours, rest = divmod(minutes, 60)
    if not rest and hours < 24 and 24 % hours == 0:
        return f"{CRON_MINUTE} */{hours} * * *" if hours > 1 else f"{CRON_MINUTE} * * * *"
    days, rest = divmod(minutes, 24 * 60)
    if not rest and days == 1:
        return f"{CRON_MINUTE} {CRON_HOUR} * * *"
    if not rest and days == 7:
        return f"{CRON_MINUTE} {CRON_HOUR} * * 0"
    raise ScheduleError(
        f"cron cannot fire evenly every {every}: use minutes dividing 60, hours dividing 24, 1d or 7d, "
        "or --format systemd (timers take any interval)"
    )


def crontab_line(job: Job, every: timedelta) -> str:
    redirect = f">> {shlex.quote(str(job.log_file))} 2>&1"
    # cron runs a line with /bin/sh and treats % as a newline: escape it.
    command = shlex.join(job.argv()).replace("%", "\\%")
    return f"{cron_fields(every)} {command} {redirect} {TAG} {job.out}"


def systemd_units(job: Job, every: str, name: str) -> dict[str, str]:
    """`<name>.service` and `<name>.timer`, for ~/.config/systemd/user/ (or /etc/systemd/system/)."""
    command = " ".join(systemd_quote(arg) for arg in job.argv())
    service = (
        "[Unit]\n"
        f"Description=newsarchive crawl of {job.start_url} into {job.out}\n"
        "Wants=network-online.target\nAfter=network-online.target\n\n"
        "[Service]\nType=oneshot\n"
        f"WorkingDirectory={job.out.parent}\n"
        f"ExecStart={command}\n"
        f"StandardOutput=append:{job.log_file}\nStandardError=append:{job.log_file}\n"
    )
    timer = (
        "[Unit]\n"
        f"Description=Run {name}.service every {every}\n\n"
        "[Timer]\n"
        # The first run a few minutes after boot, then `every` after each run ends: runs never overlap.
        "OnBootSec=5min\n"
        f"OnUnitInactiveSec={every}\n"
        "RandomizedDelaySec=5min\n\n"
        "[Install]\nWantedBy=timers.target\n"
    )
    return {f"{name}.service": service, f"{name}.timer": timer}


def systemd_quote(arg: str) -> str:
    """Quote one ExecStart argument (systemd's own rules: double quotes, backslash escapes, %% for %)."""
    arg = arg.replace("%", "%%")
    if arg and not any(ch in arg for ch in " \t\"'\\;$"):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$") + '"'


def merge_crontab(existing: str, line: str, out: Path) -> str:
    """`existing` without our earlier line for the same archive, plus `line`."""
    kept = [old for old in existing.splitlines() if not old.endswith(f"{TAG} {out}")]
    return "\n".join([*kept, line]) + "\n"


def install_crontab(line: str, out: Path, crontab: str = "crontab") -> str:
    """Add `line` to the current user's crontab (replacing our line for `out`); return the new crontab."""
    try:
        current = subprocess.run([crontab, "-l"], capture_output=True, text=True, timeout=30)
    except FileNotFoundError as exc:
        raise ScheduleError(f"no {crontab!r} program here: install cron, or use --format systemd") from exc
    # `crontab -l` fails with "no crontab for USER" when there is none yet: start from empty.
    existing = current.stdout if current.returncode == 0 else ""
    merged = merge_crontab(existing, line, out)
    written = subprocess.run([crontab, "-"], input=merged, capture_output=True, text=True, timeout=30)
    if written.returncode != 0:
        raise ScheduleError(f"{crontab} refused the new table: {written.stderr.strip()}")
    return merged


def add_schedule_parser(sub: Any) -> argparse.ArgumentParser:
    parser = sub.add_parser("schedule", help="print (or install) a crontab line or systemd timer for a recurring crawl")
    parser.add_argument(
        "--every", required=True, metavar="DURATION", help="interval between crawls, e.g. 30m, 6h, 1d, 7d"
    )
    parser.add_argument("--start-url", required=True, help="the portal's home page")
    parser.add_argument("--out", required=True, help="archive directory the crawls add to")
    parser.add_argument(
        "--format",
        choices=("cron", "systemd"),
        default="cron",
        help="crontab line (default) or systemd service + timer",
    )
    parser.add_argument("--name", default="newsarchive-crawl", help="systemd unit name (default newsarchive-crawl)")
    parser.add_argument(
        "--log", help="file the crawls append their output to (default: <out>.crawl.log beside the archive)"
    )
    parser.add_argument(
        "--scrapyd",
        metavar="URL",
        help="ask the Scrapyd at URL to run each crawl (curl schedule.json) instead of crawling locally",
    )
    parser.add_argument("--since", metavar="DATE", help="only articles published on or after DATE (YYYY-MM-DD)")
    parser.add_argument("--revisit-after", metavar="DURATION", help="fetch archived articles again once this old")
    parser.add_argument(
        "--max-articles", type=int, metavar="N", help="fetch at most N articles per crawl, the newest first"
    )
    parser.add_argument("--install", action="store_true", help="add the line to your crontab (needs --yes)")
    parser.add_argument("--yes", action="store_true", help="confirm --install")
    parser.add_argument("--crontab", default="crontab", help=argparse.SUPPRESS)  # the program; tests pass a stand-in
    return parser


def job_from_args(args: argparse.Namespace) -> Job:
    options = []
    try:
        if args.since:
            options.append(f"PORTAL_SINCE={parse_day(args.since).isoformat()}")
        if args.revisit_after:
            parse_duration(args.revisit_after)
            options.append(f"PORTAL_REVISIT_AFTER={args.revisit_after}")
    except ValueError as exc:
        raise ScheduleError(str(exc)) from exc
    if args.max_articles is not None:
        if args.max_articles < 1:
            raise ScheduleError("--max-articles needs a positive number")
        options.append(f"PORTAL_MAX_ARTICLES={args.max_articles}")
    if not args.start_url.startswith(("http://", "https://")):
        raise ScheduleError(f"--start-url must be an http(s) URL, got {args.start_url!r}")
    log = Path(args.log).resolve() if args.log else None
    return Job(args.start_url, Path(args.out).resolve(), tuple(options), args.scrapyd or "", log=log)


def schedule_main(args: argparse.Namespace) -> int:
    """Print the schedule; with --install --yes also install the crontab line. Only the CLI prints."""
    try:
        every = parse_duration(args.every)
    except ValueError as exc:
        raise ScheduleError(str(exc)) from exc
    job = job_from_args(args)
    if args.format == "systemd":
        if args.install:
            raise ScheduleError(
                "--install writes crontabs only; save the units below yourself (see docs/operations.md)"
            )
        for filename, text in systemd_units(job, args.every, args.name).items():
            print(f"# --- {filename}\n{text}")
        print(
            f"# install: copy both files to ~/.config/systemd/user/, then\n"
            f"#   systemctl --user daemon-reload && systemctl --user enable --now {args.name}.timer"
        )
        return 0
    line = crontab_line(job, every)
    if not args.install:
        print(line)
        return 0
    if not args.yes:
        raise ScheduleError(
            "--install changes your crontab (it adds the line below, replacing an earlier newsarchive line for the "
            f"same --out); add --yes to go ahead:\n{line}"
        )
    merged = install_crontab(line, job.out, args.crontab)
    print(f"installed in your crontab ({len(merged.splitlines())} lines now):\n{line}")
    return 0
