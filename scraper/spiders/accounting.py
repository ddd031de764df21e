"""Why a request ended without a response to parse: the skip reason for a download failure.
A pure function over exceptions, so the spider's errbacks stay short and the reasons testable."""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_error
from twisted.web._newclient import ResponseFailed

from scraper.middlewares import SkipRequest

# Connection-level failures: the server went away, refused, or could not be found.
CONNECTION_ERRORS = (
    DownloadConnectionRefusedError,
    DownloadFailedError,
    CannotResolveHostError,
    twisted_error.ConnectError,
    twisted_error.ConnectionLost,
    twisted_error.ConnectionDone,
    ResponseFailed,
)
# Messages of the IgnoreRequest raised by Scrapy's own middlewares.
ROBOTS_MESSAGE = "Forbidden by robots.txt"
MAX_REDIRECTS_MESSAGE = "max redirections reached"
OFFSITE_MESSAGE = "Filtered offsite request"
# HttpCompressionMiddleware's message for a body that inflates past DOWNLOAD_MAXSIZE (a gzip bomb).
INFLATED_TOO_LARGE_MESSAGE = "DOWNLOAD_MAXSIZE"


@dataclass(frozen=True)
class SkipReason:
    """A skip reason (a short token), what happened in words, and the last HTTP status seen, if any."""

    reason: str
    detail: str
    http_status: int | None = None


def classify_failure(exc: BaseException, attempts: int = 1) -> SkipReason | None:
    """The skip reason for a request that failed with `exc` after `attempts` tries; None for an unexpected error (a bug).

    >>> classify_failure(DownloadTimeoutError("Getting http://h/ took longer than 3 seconds."), 3).reason
    'timeout'
    >>> classify_failure(IgnoreRequest("Forbidden by robots.txt")).reason
    'robots'
    >>> classify_failure(KeyError("x")) is None
    True
    """
    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
    if isinstance(exc, SkipRequest):
        return SkipReason(exc.reason, exc.detail)
    if isinstance(exc, HttpError):
        status = exc.response.status
        return SkipReason(f"http_{status}", f"HTTP {status}{tries}", status)
    if isinstance(exc, IgnoreRequest):
        message = str(exc)
        if message.startswith(ROBOTS_MESSAGE):
            return SkipReason("robots", "disallowed by the portal's robots.txt")
        if message.startswith(MAX_REDIRECTS_MESSAGE):
            return SkipReason("redirect_loop", "too many redirects (REDIRECT_MAX_TIMES)")
        if message.startswith(OFFSITE_MESSAGE):
            return SkipReason("off_scope", message)
        if INFLATED_TOO_LARGE_MESSAGE in message:
            return SkipReason("too_large", f"the body inflates past DOWNLOAD_MAXSIZE: {message}")
        return SkipReason("ignored", message or type(exc).__name__)
    if isinstance(exc, DownloadTimeoutError):
        return SkipReason("timeout", f"{exc}{tries}")
    if isinstance(exc, DownloadCancelledError):
        # Scrapy cancels a download over DOWNLOAD_MAXSIZE; nothing else cancels ours.
        return SkipReason("too_large" if "max size" in str(exc) else "cancelled", str(exc))
    if isinstance(exc, ResponseDataLossError):
        return SkipReason("truncated", f"the body was shorter than its Content-Length{tries}")
    if isinstance(exc, twisted_error.TimeoutError):
        return SkipReason("timeout", f"{exc}{tries}")
    if isinstance(exc, CONNECTION_ERRORS):
        return SkipReason("connection_error", f"{type(exc).__name__}: {exc}{tries}")
    return None
