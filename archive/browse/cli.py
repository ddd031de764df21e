"""`newsarchive browse DIR`: serve an archive to a web browser on loopback.
It indexes the archive (or reuses the cached index), prints the app's URL and stops on Ctrl-C or SIGTERM; it takes
an argv list and returns an exit status, like archive/cli.py."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType

from werkzeug.serving import make_server

from ..layout import ARTICLES, MANIFESTS, QUARANTINE
from .app import create_app
from .index import BrowseIndex, default_cache_dir

logger = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def archive_problem(directory: Path) -> str | None:
    """Why `directory` cannot be browsed, or None if it looks like an archive."""
    if not directory.exists():
        return f"{directory} does not exist; give the archive directory (the one holding articles/ and manifests/)"
    if not directory.is_dir():
        return f"{directory} is not a directory; give the archive directory (the one holding articles/ and manifests/)"
    if not any((directory / name).is_dir() for name in (ARTICLES, QUARANTINE, MANIFESTS)):
        return (
            f"{directory} is not an archive: it has no articles/, quarantine/ or manifests/ "
            f"(fix: point at the directory a crawl wrote with --out)"
        )
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsarchive browse",
        description="Browse an archive in a web browser: the articles, and for each what the cleaner changed "
        "beside the page as captured. Read-only; the index is kept outside the archive.",
    )
    parser.add_argument("directory", type=Path, help="archive root (holds articles/, warc/, manifests/)")
    parser.add_argument("--port", type=int, default=0, help="port to serve on; 0 picks a free one (default)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback address")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help=f"where the index is kept between runs (default {default_cache_dir()}); never inside the archive",
    )
    parser.add_argument("--no-cache", action="store_true", help="build the index in memory and keep nothing")
    return parser


def browse_main(argv: list[str] | None = None) -> int:
    """Serve until interrupted; 0 on a clean stop, 1 if the archive cannot be browsed, 2 on a usage error."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not is_loopback(args.host) and not args.allow_remote:
        parser.error(f"refusing to serve on non-loopback host {args.host!r}; add --allow-remote")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    problem = archive_problem(args.directory)
    if problem:
        print(f"newsarchive browse: error: {problem}", file=sys.stderr)
        return 1
    root = args.directory.resolve()
    cache_dir = None if args.no_cache else (args.cache_dir or default_cache_dir())
    if cache_dir is not None and (cache_dir.resolve() == root or root in cache_dir.resolve().parents):
        parser.error(f"--cache-dir {cache_dir} is inside the archive; browse never writes there (pick another)")

    import opencc

    convert = opencc.OpenCC("t2s").convert
    print(f"indexing {root} ...", file=sys.stderr, flush=True)
    index = BrowseIndex(root, convert, cache_dir)
    counts = index.counts()
    where = index.cache_path or "memory"
    built = f"built in {index.built_seconds:.1f} s" if index.built_seconds is not None else "reused"
    print(
        f"{counts['articles']} articles, {counts['records']} records, {counts['quarantined']} quarantined, "
        f"{counts['skipped']} skipped; index {built} ({where})",
        file=sys.stderr,
        flush=True,
    )
    if counts["problems"]:
        print(
            f"warning: {counts['problems']} damaged spots were stepped over (listed on the first page; "
            f"run 'newsarchive verify {args.directory}')",
            file=sys.stderr,
        )
    app = create_app(root, index, convert)
    try:
        server = make_server(args.host, args.port, app, threaded=True)
    except (OSError, socket.gaierror) as exc:
        print(f"newsarchive browse: error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    thread = threading.Thread(target=server.serve_forever, name="browse", daemon=True)
    thread.start()
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Browsing {root} at http://{host}:{server.server_port}/", flush=True)
    while not stop.wait(0.2):
        pass
    server.shutdown()
    thread.join()
    index.close()
    return 0
