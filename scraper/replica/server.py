"""The replica portal as a real HTTP server on loopback, and its command line.

`newsarchive portal` / `python -m scraper.replica` print one line with the URL, then serve until signalled.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import signal
import sys
import threading
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from scraper.replica.site import Portal

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogEntry:
    """One request served, as `/_log` reports it."""

    method: str
    path: str
    status: int
    bytes: int


class RequestLog:
    """Thread-safe in-memory record of the requests a server answered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []

    def add(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def json_lines(self) -> bytes:
        lines = [json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in self.entries()]
        return "".join(lines).encode("utf-8")


class ReplicaServer(ThreadingHTTPServer):
    """A threading HTTP server holding the portal it serves and its request log."""

    daemon_threads = True

    def __init__(self, host: str, port: int, seed: int, articles: int, changed: int) -> None:
        super().__init__((host, port), ReplicaHandler)
        self.portal = Portal(seed, articles, changed, base_url=self.url)
        self.log = RequestLog()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


class ReplicaHandler(BaseHTTPRequestHandler):
    """Answers GET and HEAD from the portal; `/_log` lists what was served."""

    server: ReplicaServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        if self.path.split("?", 1)[0] == "/_log":
            status, headers, body = 200, [("Content-Type", "application/x-ndjson")], self.server.log.json_lines()
        else:
            status, headers, body = self.server.portal.page(self.path)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)
        self.server.log.add(LogEntry(self.command, self.path, status, len(body) if send_body else 0))

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
        logger.info("%s " + format, self.client_address[0], *args)


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses: the only hosts served by default."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsarchive portal",
        description="Serve the replica portal: generated articles damaged like the real portal's, "
        "with the clean truth at /_truth/<id>.json.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--articles", type=int, default=300, help="number of articles (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="generation seed (default 0)")
    parser.add_argument("--changed", type=int, default=0,
                        help="edit the text of the N oldest articles, to test versioning (default 0)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow binding a non-loopback address")
    return parser


def portal_main(argv: list[str] | None = None) -> int:
    """CLI entry: print the serving line, serve until SIGINT/SIGTERM, exit 0."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not is_loopback(args.host) and not args.allow_remote:
        parser.error(f"refusing to serve on non-loopback host {args.host!r}; add --allow-remote")
    if args.articles < 1 or not 0 <= args.changed <= args.articles:
        parser.error("--articles must be >= 1 and --changed between 0 and --articles")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    server = ReplicaServer(args.host, args.port, args.seed, args.articles, args.changed)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    # serve_forever runs in a thread so the main thread can wait for a signal and shut down.
    thread = threading.Thread(target=server.serve_forever, name="replica-portal", daemon=True)
    thread.start()
    print(f"Replica portal serving {args.articles} articles at {server.url}", flush=True)
    while not stop.wait(0.1):
        pass
    server.shutdown()
    server.server_close()
    thread.join()
    return 0
