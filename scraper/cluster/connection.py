"""The Redis connection of a distributed crawl: the --redis URL checked, the server reached, and the crawl's namespace.
Every failure to reach the server is a ClusterUnavailable whose message names the server and the fix."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis

from scraper.urls import host_key

EXAMPLE = "redis://127.0.0.1:6379/0"
# Seconds to wait for the server to accept a connection or answer: a crawl with Redis unreachable fails fast.
CONNECT_TIMEOUT = 5.0
# Seconds a command may take once connected (a large pipeline of the article index on a busy server).
COMMAND_TIMEOUT = 60.0
# What the client raises when the server cannot be used.
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ResponseError)


class ClusterUnavailable(RuntimeError):
    """The Redis server of a distributed crawl cannot be used; the message says which and what to do."""


def check_redis_url(url: str) -> str:
    """`url` if it names a Redis server and database the way the crawl needs them; ValueError saying what is wrong.

    >>> check_redis_url("redis://127.0.0.1:6379/2")
    'redis://127.0.0.1:6379/2'
    >>> check_redis_url("http://127.0.0.1:6379/")
    Traceback (most recent call last):
    ValueError: --redis 'http://127.0.0.1:6379/': not a Redis URL (redis:// or rediss://), e.g. redis://127.0.0.1:6379/0
    """
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"--redis {url!r}: not a Redis URL (redis:// or rediss://), e.g. {EXAMPLE}")
    if not parts.hostname:
        raise ValueError(f"--redis {url!r} names no host, e.g. {EXAMPLE}")
    try:
        parts.port  # noqa: B018 (parsing the port is the check)
    except ValueError as exc:
        raise ValueError(f"--redis {url!r}: bad port ({exc}), e.g. {EXAMPLE}") from exc
    database = parts.path.strip("/")
    if database and not database.isdigit():
        raise ValueError(f"--redis {url!r}: the path names the database by its number, e.g. {EXAMPLE}")
    return url


def display_url(url: str) -> str:
    """The URL without its password, for messages and manifests.

    >>> display_url("redis://:secret@10.0.0.5:6379/1")
    'redis://10.0.0.5:6379/1'
    """
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def connect(url: str, timeout: float = CONNECT_TIMEOUT) -> redis.Redis:
    """A client of the server at `url` that has answered a PING; ClusterUnavailable if it cannot be reached."""
    try:
        client = redis.Redis.from_url(
            check_redis_url(url), socket_connect_timeout=timeout, socket_timeout=COMMAND_TIMEOUT
        )
        client.ping()
    except ValueError as exc:
        raise ClusterUnavailable(str(exc)) from exc
    except (*REDIS_ERRORS, redis.exceptions.AuthenticationError) as exc:
        raise ClusterUnavailable(
            f"cannot reach Redis at {display_url(url)}: {exc}; start redis-server there, or give --redis the "
            f"address of the crawl's server (e.g. {EXAMPLE})"
        ) from exc
    return client


def namespace(start_url: str) -> str:
    """The prefix of every key of the distributed crawls of one portal: one crawl at a time per portal and database.

    >>> namespace("http://127.0.0.1:8000/")
    'newsarchive:127.0.0.1:8000'
    """
    host, port = host_key(start_url)
    return f"newsarchive:{host}:{port}"
