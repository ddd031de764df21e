"""The `newsarchive` command: crawl a portal into an archive, schedule crawls, run the demo, and reach the other tools.
portal, clean, verify, stats, export, reclean, browse and merge hand their arguments to the modules that own them."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from scraper.summary import (
    ACCOUNTING_ROWS,
    ARCHIVE_ERROR_STAT,
    CHECK_FAILURES_STAT,
    CLUSTER_TOTALS_STAT,
    SUMMARY_TABLE,
    CrawlSummary,
    checked_summary,
)

# Subcommands whose arguments belong to another module: (module, function, help).
DELEGATED: dict[str, tuple[str, str, str]] = {
    "portal": ("scraper.replica.server", "portal_main", "serve the replica portal (a local test site)"),
    "clean": ("scraper.cleaner.cli", "clean_main", "clean one saved page and print the article"),
    "verify": ("archive.cli", "verify_main", "check an archive's files against its manifests"),
    "stats": ("archive.cli", "stats_main", "summarize an archive"),
    "export": ("archive.cli", "export_main", "export articles as JSON lines or Parquet, or captures as a WACZ"),
    "reclean": (
        "scraper.reclean",
        "reclean_main",
        "re-derive articles from their WARC captures with the current cleaner",
    ),
    "browse": ("archive.browse.cli", "browse_main", "browse an archive in a web browser (read-only, loopback)"),
    "merge": ("archive.cli", "merge_main", "combine archives written on separate machines into one"),
}
REPLICA_URL_RE = re.compile(r"(https?://\S+/)")
REPLICA_START_TIMEOUT = 60.0  # seconds; building the replica's corpus takes a moment
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader went away
# The close reason of a worker of a distributed crawl that lost its lease (scraper.cluster.extension.LEASE_LOST).
LEASE_LOST = "cluster_lease_lost"
# Rows of the crawl's table that only a worker counts (its own requests and errors are in its table above).
CLUSTER_HIDDEN_ROWS = frozenset({"requests", "http_errors", "download_errors", "resumed", "links_off_scope"})


class CliError(Exception):
    """A problem the user can fix; main() prints it and returns 2."""


@dataclass
class CrawlResult:
    """What a crawl did, from the crawler's stats."""

    stats: dict[str, Any]
    seconds: float
    archive_dir: Path
    crawl_id: str
    failures: list[str] = field(default_factory=list)

    @property
    def summary(self) -> CrawlSummary:
        return CrawlSummary.from_stats(self.stats)

    @property
    def check_failures(self) -> list[str]:
        return list(self.stats.get(CHECK_FAILURES_STAT) or [])


def build_settings(out: Path, crawl_id: str | None, overrides: Sequence[str], loglevel: str) -> Any:
    """Scrapy settings from the scraper.settings module (not scrapy.cfg), so any cwd works."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("scraper.settings", priority="project")
    settings.set("ARCHIVE_DIR", str(out), priority="cmdline")
    if crawl_id:
        settings.set("ARCHIVE_CRAWL_ID", crawl_id, priority="cmdline")
    settings.set("LOG_LEVEL", loglevel.upper(), priority="cmdline")
    for override in overrides:
        name, sep, value = override.partition("=")
        if not sep or not name:
            raise CliError(f"-s expects NAME=VALUE, got {override!r}")
        settings.set(name.strip(), value, priority="cmdline")
    return settings


def run_crawl(
    start_url: str, out: Path, crawl_id: str | None = None, overrides: Sequence[str] = (), loglevel: str = "INFO"
) -> CrawlResult:
    """Run the portal spider once in this process (a Twisted reactor starts only once per process)."""
    from scrapy.crawler import CrawlerProcess

    settings = build_settings(out, crawl_id, overrides, loglevel)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("portal")
    failures: list[str] = []

    def failed(failure: Any) -> None:
        failures.append(failure.getErrorMessage() or repr(failure.value))

    process.crawl(crawler, start_url=start_url).addErrback(failed)
    started = time.monotonic()
    process.start()
    seconds = time.monotonic() - started
    try:
        stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    except RuntimeError:  # the crawl failed before Scrapy set up its stats; `failures` says why
        stats = {}
    return CrawlResult(stats, seconds, out, settings.get("ARCHIVE_CRAWL_ID"), failures)


def summary_lines(result: CrawlResult) -> list[str]:
    """The summary as an aligned table (the manifest and the log carry it as JSON). A worker of a distributed crawl
    shows what it did, then the crawl's counts over all its workers (where the accounting rows belong)."""
    from scraper.cluster.command import crawl_summary

    finished = result.stats.get("finish_reason", "finished") == "finished"
    crawl = crawl_summary(result.stats)
    if crawl is None:
        lines = [f"crawl {result.crawl_id} -> {result.archive_dir}"]
        return lines + table_lines(result.summary.as_dict(), finished, result.seconds)
    lines = [f"worker {result.crawl_id} of a distributed crawl -> {result.archive_dir}"]
    lines += table_lines(result.summary.as_dict(), finished, result.seconds, hide=ACCOUNTING_ROWS)
    lines.append("the whole crawl, all its workers:")
    return lines + table_lines(crawl.as_dict(), finished, None, hide=CLUSTER_HIDDEN_ROWS)


def table_lines(
    summary: dict[str, Any], finished: bool, seconds: float | None, hide: frozenset[str] = frozenset()
) -> list[str]:
    width = max(len(label) for _, label in SUMMARY_TABLE)
    lines = []
    for key, label in SUMMARY_TABLE:
        value = summary[key]
        if key in hide:
            continue
        if key in ACCOUNTING_ROWS and not finished:  # a stopped crawl never reached them
            label = "  not reached (crawl stopped)"
        if isinstance(value, dict):  # per-reason counts under the row above
            lines += [f"    {reason:<{width - 2}}  {count:>7}" for reason, count in value.items()]
            continue
        if label.startswith("  ") and not value:  # detail rows only when they say something
            continue
        lines.append(f"  {label:<{width}}  {value:>7}")
    if seconds is not None:
        lines.append(f"  {'error rate':<{width}}  {summary['error_rate']:>7.1%}")
        lines.append(f"  {'time taken':<{width}}  {seconds:>7.1f} s")
    return lines


def check_result(result: CrawlResult, start_url: str) -> int:
    """Print the summary; 0 if the crawl archived (or confirmed) articles and passed its checks, else non-zero."""
    if result.failures:  # the crawl did not even start: the summary would be all zeros
        print(f"error: the crawl failed: {'; '.join(result.failures)}", file=sys.stderr)
        return 1
    print("\n".join(summary_lines(result)))
    worker = CLUSTER_TOTALS_STAT in result.stats  # one worker of a distributed crawl
    archive_error = result.stats.get(ARCHIVE_ERROR_STAT)
    if archive_error:
        print(
            f"error: the crawl stopped: {archive_error}. The files committed before are whole "
            f"(newsarchive verify {result.archive_dir}); free space or fix the directory and run the crawl again",
            file=sys.stderr,
        )
        return 1
    reason = result.stats.get("finish_reason")
    if reason == "shutdown":
        again = (
            "rejoin the crawl (the other workers carry on)"
            if worker
            else "continue (with --jobdir it resumes its queue)"
        )
        print(f"interrupted: the crawl stopped early; run the same command again to {again}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if reason == LEASE_LOST:
        print(
            "error: this worker lost the crawl's Redis, or its lease lapsed (PORTAL_CLUSTER_LEASE): it stopped without "
            "committing more, and the other workers do what it left. Check Redis, then start it again to rejoin",
            file=sys.stderr,
        )
        return 1
    if reason != "finished":
        print(f"error: the crawl did not finish cleanly (finish reason {reason!r}); see the log", file=sys.stderr)
        return 1
    if result.check_failures:
        for failure in result.check_failures:
            print(f"error: crawl failed: {failure}", file=sys.stderr)
        return 1
    summary = checked_summary(result.stats)
    if summary.articles_found == 0 and not summary.resumed:
        print(f"error: no article links found from {start_url}; is it the portal's home page?", file=sys.stderr)
        return 1
    if summary.articles_found and summary.settled == 0:
        print(
            f"error: found {summary.articles_found} articles but archived none; "
            f"see {result.archive_dir / 'quarantine'} and the log for the reasons",
            file=sys.stderr,
        )
        return 1
    return 0


def incremental_settings(args: argparse.Namespace) -> list[str]:
    """The crawl options as NAME=VALUE settings, checked here so that mistakes are usage errors."""
    from scraper.spiders.incremental import parse_day, parse_duration

    overrides = []
    try:
        if args.revisit_after:
            parse_duration(args.revisit_after)
            overrides.append(f"PORTAL_REVISIT_AFTER={args.revisit_after}")
        for option, name in ((args.since, "PORTAL_SINCE"), (args.until, "PORTAL_UNTIL")):
            if option:
                overrides.append(f"{name}={parse_day(option).isoformat()}")
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if args.since and args.until and parse_day(args.since) > parse_day(args.until):
        raise CliError(f"--since {args.since} is after --until {args.until}")
    if args.max_articles is not None:
        if args.max_articles < 1:
            raise CliError("--max-articles needs a positive number")
        overrides.append(f"PORTAL_MAX_ARTICLES={args.max_articles}")
    if args.refresh:
        overrides.append("PORTAL_REFRESH=true")
    if args.jobdir:
        overrides.append(f"JOBDIR={Path(args.jobdir).resolve()}")
    return overrides


def check_start_url(url: str) -> str:
    """`url` if a crawl can start from it (http or https, a host, a valid port); CliError saying what is wrong otherwise.

    >>> check_start_url("http://[::1/")
    Traceback (most recent call last):
    ...
    scraper.cli.CliError: --start-url 'http://[::1/' is not a URL (Invalid IPv6 URL); e.g. http://127.0.0.1:8000/
    """
    from urllib.parse import urlsplit

    example = "e.g. http://127.0.0.1:8000/"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise CliError(f"--start-url {url!r} is not a URL ({exc}); {example}") from exc
    try:
        port = parts.port
    except ValueError as exc:
        raise CliError(f"--start-url {url!r} bad port ({exc}); use a number from 1 to 65535; {example}") from exc
    if parts.scheme not in ("http", "https"):
        raise CliError(
            f"--start-url {url!r}: the portal is crawled over http or https, not {parts.scheme or 'no scheme'!r} ({example})"
        )
    if not parts.hostname:
        raise CliError(f"--start-url {url!r} names no host ({example})")
    if not is_host_name(parts.hostname):
        raise CliError(f"--start-url {url!r}: {parts.hostname!r} is not a host name or IP address ({example})")
    if port == 0:
        raise CliError(f"--start-url {url!r} bad port (0); use a number from 1 to 65535; {example}")
    return url


HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def is_host_name(host: str) -> bool:
    """True for an IP address or a DNS name (IDNA allowed) whose labels are letters, digits, `-` and `_`.

    >>> [is_host_name(h) for h in ("127.0.0.1", "::1", "portal.example", "新聞.example", "exa mple.com", "a..b")]
    [True, True, True, True, False, False]
    """
    import ipaddress

    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return all(HOST_LABEL.fullmatch(label) for label in ascii_host.rstrip(".").split("."))


def check_archive_free(out: Path) -> None:
    """CliError if another crawl is writing to `out` (it holds the archive's lock); the pipeline checks again, for good."""
    from archive.layout import ARTICLES
    from archive.writer import DirectoryBusyError, DirectoryLock

    if not (out / ARTICLES).is_dir():
        return
    lock = DirectoryLock(out / ARTICLES)
    try:
        lock.acquire()
    except DirectoryBusyError as exc:
        raise CliError(f"another crawl is writing to {out}: {exc}") from exc
    except OSError:
        return  # unwritable: the archive pipeline says why, naming the directory
    lock.release()


def cmd_crawl(args: argparse.Namespace) -> int:
    if not args.start_url:
        raise CliError("crawl needs --start-url URL (the portal's home page, e.g. http://127.0.0.1:8000/)")
    check_start_url(args.start_url)
    out = Path(args.out).resolve()
    if args.crawl_id:
        from archive.layout import UnsafeNameError, check_name

        try:
            check_name(args.crawl_id)  # it names files in the archive: never a path
        except UnsafeNameError as exc:
            raise CliError(f"--crawl-id: {exc}") from exc
    # -s comes last so that an explicit setting wins over the options.
    overrides = incremental_settings(args) + list(args.set)
    if args.redis:
        overrides = join_distributed_crawl(args, out, overrides) + list(args.set)
    else:
        check_archive_free(out)
    result = run_crawl(args.start_url, out, args.crawl_id, overrides, args.loglevel)
    return check_result(result, args.start_url)


def join_distributed_crawl(args: argparse.Namespace, out: Path, overrides: list[str]) -> list[str]:
    """--redis: join the portal's distributed crawl as one of its workers; the crawl options plus the worker's settings."""
    from scraper.cluster.command import join_crawl, refuse_options, worker_settings
    from scraper.cluster.connection import ClusterUnavailable

    try:
        refuse_options({"--jobdir": args.jobdir, "--max-articles": args.max_articles, "--crawl-id": args.crawl_id})
        lease = build_settings(out, None, overrides, args.loglevel).getfloat("PORTAL_CLUSTER_LEASE")
        membership = join_crawl(args.redis, args.start_url, out, lease)
    except (ValueError, ClusterUnavailable) as exc:
        raise CliError(str(exc)) from exc
    return overrides + worker_settings(membership, args.redis)


def cmd_schedule(args: argparse.Namespace) -> int:
    from scraper import schedule

    try:
        return schedule.schedule_main(args)
    except schedule.ScheduleError as exc:
        raise CliError(str(exc)) from exc


def prepare_demo_dir(out: Path) -> None:
    """Make `out` empty: a previous demo archive is removed, anything else is refused."""
    if not out.exists():
        return
    if not out.is_dir():
        raise CliError(f"{out} exists and is not a directory; pick another --out")
    entries = {p.name for p in out.iterdir()}
    if not entries:
        return
    if entries & {"manifests", "articles", "index.json"} and entries <= {
        "articles",
        "quarantine",
        "warc",
        "manifests",
        "index.json",
        "ledger.jsonl",
    }:
        print(f"removing the previous demo archive in {out}")
        shutil.rmtree(out)
        return
    raise CliError(
        f"{out} is not empty and does not look like a demo archive; refusing to touch it (pick another --out)"
    )


def start_replica(articles: int, seed: int, log: IO[bytes]) -> tuple[subprocess.Popen[str], str]:
    """Start the replica portal on a free loopback port; return the process and its URL.

    Its request log goes to `log`, so that it does not drown the demo's summary.
    """
    import selectors

    command = [sys.executable, "-m", "scraper.replica", "--port", "0", "--articles", str(articles), "--seed", str(seed)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout=REPLICA_START_TIMEOUT)
    line = proc.stdout.readline() if ready else ""
    match = REPLICA_URL_RE.search(line)
    if not match:
        stop_process(proc)
        log.seek(0)
        said = log.read().decode("utf-8", "replace")[-2000:]
        raise CliError(
            f"the replica portal did not start within {REPLICA_START_TIMEOUT:.0f} s (exit code {proc.returncode}): {line.strip()}\n{said}"
        )
    return proc, match.group(1)


def stop_process(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out).resolve()
    prepare_demo_dir(out)
    with tempfile.TemporaryFile() as replica_log:
        proc, url = start_replica(args.articles, args.seed, replica_log)
        try:
            print(f"replica portal with {args.articles} articles at {url}")
            result = run_crawl(url, out, None, args.set, args.loglevel)
        finally:
            stop_process(proc)
    code = check_result(result, url)
    if code == 0:
        print(f"crawl wall time: {result.seconds:.1f} s for {result.summary.articles_found} articles")
        print(f"next: newsarchive verify {out}   |   newsarchive stats {out}")
    return code


def delegate(command: str, argv: list[str]) -> int:
    import importlib

    module_name, function_name, _ = DELEGATED[command]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise CliError(f"'{command}' is not available: {exc}") from exc
    function: Callable[[list[str]], int] = getattr(module, function_name)
    return int(function(argv) or 0)


def add_incremental_options(parser: argparse.ArgumentParser) -> None:
    """Options choosing which articles a crawl fetches (shared by crawl and schedule)."""
    parser.add_argument("--refresh", action="store_true", help="fetch articles the archive already holds too")
    parser.add_argument(
        "--revisit-after", metavar="DURATION", help="fetch archived articles again once this old, e.g. 7d or 12h"
    )
    parser.add_argument("--since", metavar="DATE", help="only articles published on or after DATE (YYYY-MM-DD)")
    parser.add_argument("--until", metavar="DATE", help="only articles published on or before DATE (YYYY-MM-DD)")
    parser.add_argument("--max-articles", type=int, metavar="N", help="fetch at most N articles, the newest first")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsarchive", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="override a Scrapy setting (repeatable)"
    )

    demo = sub.add_parser("demo", parents=[common], help="crawl a freshly started replica portal into ./demo-archive")
    demo.add_argument("--articles", type=int, default=300, help="articles on the replica (default 300)")
    demo.add_argument("--seed", type=int, default=1, help="replica seed (default 1)")
    demo.add_argument("--out", default="demo-archive", help="archive directory, cleared first (default ./demo-archive)")
    demo.add_argument("--loglevel", default="WARNING", help="Scrapy log level (default WARNING)")
    demo.set_defaults(handler=cmd_demo)

    crawl = sub.add_parser("crawl", parents=[common], help="crawl a portal into an archive directory")
    crawl.add_argument("--start-url", help="the portal's home page (required)")
    crawl.add_argument("--out", required=True, help="archive directory (created if missing; reused across crawls)")
    crawl.add_argument("--crawl-id", help="name of this crawl (default: UTC timestamp + random suffix)")
    crawl.add_argument("--loglevel", default="INFO", help="Scrapy log level (default INFO)")
    add_incremental_options(crawl)
    crawl.add_argument(
        "--jobdir", metavar="DIR", help="keep the crawl's queue in DIR: stop it with Ctrl-C (once) and rerun to resume"
    )
    crawl.add_argument(
        "--redis",
        metavar="URL",
        help="be one worker of a distributed crawl sharing its queue, index and politeness budget in the Redis at "
        "URL (redis://HOST:PORT/DB); start as many as you like, on any machine (see README)",
    )
    crawl.set_defaults(handler=cmd_crawl)

    from scraper.schedule import add_schedule_parser

    add_schedule_parser(sub).set_defaults(handler=cmd_schedule)

    for name, (_, _, help_text) in DELEGATED.items():
        sub.add_parser(name, help=help_text + f" (see: newsarchive {name} --help)", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list and args_list[0] in DELEGATED:
            return delegate(args_list[0], args_list[1:])
        args = build_parser().parse_args(args_list)
        return int(args.handler(args))
    except CliError as exc:
        print(f"newsarchive: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("newsarchive: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (`newsarchive stats --json | head`): not an error of ours. Later
        # writes, including the flush at exit, go to /dev/null so that Python does not report the pipe again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
