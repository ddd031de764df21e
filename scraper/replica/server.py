"""The replica portal as a real HTTP server on loopback, and its command line.

`newsarchive portal` / `python -m scraper.replica` print one line with the URL, then serve until signalled.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import signal
import socket
import struct
import sys
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from scraper.replica import faults as faultlib
from scraper.replica.faults import Decision, FaultConfig, FaultPlan
from scraper.replica.site import COLUMNS, Portal

logger = logging.getLogger(__name__)
# --latency above a minute would only hang the crawler's requests into their timeout.
MAX_LATENCY_MS = 60_000


@dataclass(frozen=True)
class LogEntry:
    """One request served, as `/_log` reports it."""

    method: str
    path: str
    status: int  # 0 when nothing was answered (reset, timeout)
    bytes: int
    fault: str | None = None
    attempt: int = 0
    at: float = 0.0  # when the answer was sent, seconds since the epoch (time between retries)


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
    server_address: tuple[str, int]  # bound to a str host over IPv4 (typeshed also allows bytes)

    def __init__(
        self,
        host: str,
        port: int,
        seed: int,
        articles: int,
        changed: int,
        faults: FaultConfig | None = None,
        latency: float = 0.0,
    ) -> None:
        if ":" in host:  # an IPv6 address such as ::1
            self.address_family = socket.AF_INET6
        super().__init__((host, port), ReplicaHandler)
        self.portal = Portal(seed, articles, changed, base_url=self.url)
        self.latency = latency  # seconds every page of the portal waits before its answer (a distant server)
        self.log = RequestLog()
        self.faults: FaultPlan | None = faultlib.plan_for(
            faults or FaultConfig(), self.url, [a.path for a in self.portal.articles], [c.path for c in COLUMNS]
        )

    def faults_json(self) -> bytes:
        """`/_faults`: absolute URL -> fault, whether transient, whether obtainable."""
        expected = self.faults.expected() if self.faults else {}
        return json.dumps({url: asdict(e) for url, e in expected.items()}, ensure_ascii=False).encode("utf-8")

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


class ReplicaHandler(BaseHTTPRequestHandler):
    """Answers GET and HEAD from the portal; `/_log` lists what was served."""

    server: ReplicaServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        path, _, query = self.path.partition("?")
        plan, decision, attempt = self.server.faults, faultlib.NORMAL, 0
        if path == "/_log":
            status, headers, body = 200, [("Content-Type", "application/x-ndjson")], self.server.log.json_lines()
        elif path == "/_faults":
            status, headers, body = 200, [("Content-Type", "application/json")], self.server.faults_json()
        else:
            if self.server.latency and not path.startswith("/_truth/"):
                time.sleep(self.server.latency)  # a thread per connection: the others are answered meanwhile
            status, headers, body = self.server.portal.page(self.path)
            if plan is not None and not path.startswith("/_truth/"):
                attempt = plan.attempts.next(path)
                decision = plan.decide(path, query, attempt)
                status, headers, body = self._apply(decision, status, headers, body)
        sent = self._send(decision, status, headers, body, send_body)
        self.server.log.add(
            LogEntry(
                self.command,
                self.path,
                status if sent >= 0 else 0,
                max(sent, 0),
                decision.fault,
                attempt,
                round(time.time(), 3),
            )
        )

    def _apply(
        self, decision: Decision, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        plan = self.server.faults
        assert plan is not None
        if decision.body is not None:
            return decision.status or 200, list(decision.headers), decision.body
        index = plan.endless_index(self.path.partition("?")[0]) if decision.fault == "endless_pages" else None
        if index is not None:
            if status != 200:  # past the column's real pages: its first page again, under the next number
                assert plan.endless_column is not None
                status, headers, body = self.server.portal.page(plan.endless_column + "index.html")
            return status, headers, plan.endless_page(body, index)
        if decision.pad_to is not None:
            body = faultlib.oversize_body(body, decision.pad_to)
        if self.path.partition("?")[0] == "/robots.txt" and status == 200:
            body = plan.robots(body.decode("ascii")).encode("ascii")
        elif status == 200 and headers and headers[0][1].startswith("text/html"):
            body = plan.add_long_links(self.path.partition("?")[0], plan.rewrite_links(body))
        return status, headers, body

    def _send(
        self, decision: Decision, status: int, headers: list[tuple[str, str]], body: bytes, send_body: bool
    ) -> int:
        """Answer as the decision says; return the body bytes sent, -1 when nothing was answered."""
        if decision.action == "reset":
            # SO_LINGER 0 makes close() send a RST instead of a FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return -1
        if decision.action == "hold":
            time.sleep(decision.seconds)
            self.close_connection = True
            return -1
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not send_body:
            return 0
        if decision.action == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return len(body) // 2
        if decision.action == "drip":
            pieces = 10
            step = max(1, -(-len(body) // pieces))
            for start in range(0, len(body), step):
                self.wfile.write(body[start : start + step])
                self.wfile.flush()
                time.sleep(decision.seconds / pieces)
            return len(body)
        self.wfile.write(body)
        return len(body)

    def log_message(self, format: str, *args: object) -> None:
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
    parser.add_argument(
        "--changed", type=int, default=0, help="edit the text of the N oldest articles, to test versioning (default 0)"
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="answer every page after MS milliseconds, like a distant server (default 0; for benchmarks)",
    )
    parser.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback address")
    faults = parser.add_argument_group(
        "faults",
        "misbehave on a seeded subset of URLs; `/_faults` lists which URL gets which fault, `/_log` what was served",
    )
    faults.add_argument(
        "--faults",
        default="",
        metavar="LIST",
        help=f"`all` or a comma-separated list of: {', '.join(faultlib.FAULT_NAMES)}; "
        f"hostile ones, not in `all`: {', '.join(faultlib.HOSTILE_FAULTS)}",
    )
    faults.add_argument("--fault-seed", type=int, default=0, help="seed of the fault assignment (default 0)")
    faults.add_argument(
        "--fault-retries",
        type=int,
        default=faultlib.DEFAULT_RETRIES,
        help="attempts a transient fault fails before the URL works (default %(default)s)",
    )
    faults.add_argument(
        "--fault-hold",
        type=float,
        default=faultlib.DEFAULT_HOLD_SECONDS,
        help="seconds a `timeout` holds the connection; set above the client's timeout (default %(default)s)",
    )
    faults.add_argument(
        "--fault-drip",
        type=float,
        default=faultlib.DEFAULT_DRIP_SECONDS,
        help="seconds a `drip` response takes (default %(default)s)",
    )
    faults.add_argument(
        "--fault-oversize",
        type=int,
        default=faultlib.DEFAULT_OVERSIZE_BYTES,
        help="bytes of an `oversize` page (default %(default)s)",
    )
    faults.add_argument(
        "--fault-bomb",
        type=int,
        default=faultlib.DEFAULT_BOMB_BYTES,
        help="bytes a `gzip_bomb` inflates to (default %(default)s)",
    )
    faults.add_argument(
        "--fault-share",
        type=float,
        default=faultlib.DEFAULT_SHARE,
        help="share of the articles given a per-URL fault (default %(default)s)",
    )
    return parser


def fault_config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> FaultConfig:
    """The FaultConfig the command line asks for (errors go through the parser)."""
    try:
        enabled = faultlib.parse_fault_names(args.faults)
    except ValueError as error:
        parser.error(str(error))
    if args.fault_retries < 0 or args.fault_hold < 0 or args.fault_drip < 0 or not 0 < args.fault_share <= 1:
        parser.error("--fault-retries, --fault-hold and --fault-drip must be >= 0, --fault-share in (0, 1]")
    return FaultConfig(
        enabled,
        args.fault_seed,
        args.fault_retries,
        args.fault_hold,
        args.fault_drip,
        args.fault_oversize,
        args.fault_share,
        args.fault_bomb,
    )


def portal_main(argv: list[str] | None = None) -> int:
    """CLI entry: print the serving line, serve until SIGINT/SIGTERM, exit 0."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not is_loopback(args.host) and not args.allow_remote:
        parser.error(f"refusing to serve on non-loopback host {args.host!r}; add --allow-remote")
    if args.articles < 1 or not 0 <= args.changed <= args.articles:
        parser.error("--articles must be >= 1 and --changed between 0 and --articles")
    if not 0 <= args.latency <= MAX_LATENCY_MS:
        parser.error(f"--latency {args.latency:g}: give milliseconds from 0 to {MAX_LATENCY_MS}")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a TCP port: use 1 to 65535, or 0 to pick a free one")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    faults = fault_config(parser, args)
    try:
        server = ReplicaServer(
            args.host, args.port, args.seed, args.articles, args.changed, faults, latency=args.latency / 1000
        )
    except OSError as exc:  # the port is taken, the address is not this machine's, no IPv6 ...
        parser.error(
            f"cannot serve on {args.host} port {args.port}: {exc.strerror or exc}; "
            "pick another --port (0 picks a free one) or another --host"
        )
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
