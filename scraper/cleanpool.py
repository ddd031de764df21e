"""Clean pages in worker processes, each call bounded by a time budget; a worker that overruns or dies is replaced.

Blocking calls, one per worker at a time: the clean pipeline runs them in threads and waits through
Deferreds, so the reactor keeps downloading while every core cleans. No Twisted or Scrapy here.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import queue
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

logger = logging.getLogger(__name__)

# The pool's workers start from a fresh interpreter: forking a process that runs a reactor and
# threads copies their state, which a cleaner never needs.
START_METHOD = "spawn"
STARTUP_SECONDS = 120  # a worker's start (imports, model tables) is not part of any page's budget
# A page with a reading, a swapped pair and a lost byte: cleaning it loads every table.
WARM_UP_PAGE = "<html><body><h1>產(chǎn)業</h1><div class='TRS_Editor'><p>規(guī)?;鲩L,有一支?duì)伍</p></div></body></html>".encode()


class CleanerBug(RuntimeError):
    """The cleaner itself failed (not a page it refused): a bug, raised where the crawl will see it."""


@dataclass(frozen=True)
class Outcome:
    """What became of one page: an article (`value`, as Article.to_dict()), a refusal (`reason`, `message`, `text`)."""

    value: Any = None
    reason: str | None = None  # clean_error, too_large, clean_timeout, clean_crash
    message: str | None = None
    text: str | None = None


def load_function(path: str) -> Callable[..., Any]:
    """The function named by a dotted path (`scraper.cleaner.clean_page`)."""
    module, _, name = path.rpartition(".")
    function = getattr(importlib.import_module(module), name)
    if not callable(function):
        raise TypeError(f"{path} is not callable")
    return function  # type: ignore[no-any-return]


def _serve(clean_path: str, conn: Connection) -> None:
    """A worker's loop: receive (body, url, headers), send back an outcome tuple; stop on None."""
    from scraper.cleaner.article import CleanError

    try:
        clean = load_function(clean_path)
        # Load the character model and its tables now, not inside the first page's budget.
        clean(WARM_UP_PAGE, url=None, headers={"Content-Type": "text/html; charset=utf-8"})
    except CleanError:
        pass
    except Exception:  # a broken cleaner: said to the crawl, which stops on it like on any bug
        conn.send(("bug", traceback.format_exc()))
        return
    conn.send(("ready",))
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        body, url, headers = task
        try:
            # The plain dict crosses the pipe: pickling hundreds of repair objects costs the crawl's own process.
            result: tuple[Any, ...] = ("ok", clean(body, url=url, headers=headers).to_dict())
        except CleanError as error:
            result = ("refused", getattr(error, "reason", "clean_error"), str(error), getattr(error, "text", None))
        except Exception:  # a bug in the cleaner is the crawl's to raise, not a page to quarantine
            result = ("bug", traceback.format_exc())
        conn.send(result)


class _Worker:
    """One process and the pipe to it."""

    def __init__(self, context: Any, clean_path: str) -> None:
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(target=_serve, args=(clean_path, child), daemon=True)
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self) -> None:
        """Block until the worker has loaded the cleaner; raises CleanerBug if the cleaner is broken."""
        if not self.ready:
            if not self.conn.poll(STARTUP_SECONDS):
                raise CleanerBug(f"the cleaning worker did not start within {STARTUP_SECONDS} s")
            try:
                message = self.conn.recv()
            except EOFError:
                raise CleanerBug(f"the cleaning worker died starting (exit code {self.process.exitcode})") from None
            if message[0] == "bug":
                raise CleanerBug(f"the cleaner fails to start:\n{message[1]}")
            self.ready = True

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                self.process.kill()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class CleanPool:
    """`size` worker processes running the cleaner named by `clean_path`, `budget` seconds per page.

    `clean()` blocks until its page is done; call it from up to `size` threads at once.
    """

    def __init__(self, clean_path: str, size: int | None = None, budget: float = 5.0) -> None:
        self.clean_path = clean_path
        self.size = size or os.cpu_count() or 1
        self.budget = budget
        self._context = multiprocessing.get_context(START_METHOD)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self.replaced = 0
        for _ in range(self.size):
            self._add_worker()

    def _add_worker(self) -> _Worker:
        worker = _Worker(self._context, self.clean_path)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)
        return worker

    def _ready(self, worker: _Worker) -> None:
        try:
            worker.wait_ready()
        except CleanerBug:
            self._idle.put(worker)  # others waiting for a worker get the same error, not a hang
            raise

    def _replace(self, worker: _Worker) -> None:
        with self._lock:
            self._all.remove(worker)
            self.replaced += 1
        worker.stop(kill=True)
        self._add_worker()

    def clean(self, body: bytes, url: str | None, headers: Mapping[str, str]) -> Outcome:
        """Clean one page in a worker; a crash is retried once on a fresh worker, an overrun is not."""
        for attempt in (1, 2):
            worker = self._idle.get()
            try:
                self._ready(worker)
                worker.conn.send((body, url, dict(headers)))
                if not worker.conn.poll(self.budget):
                    self._replace(worker)
                    return Outcome(
                        reason="clean_timeout",
                        message=f"cleaning took over {self.budget:g} s (CLEAN_TIME_BUDGET); the worker was replaced",
                    )
                result = worker.conn.recv()
            except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as error:
                worker.process.join(timeout=1)  # reaped, so its exit code is known
                code = worker.process.exitcode
                self._replace(worker)
                logger.warning("a cleaning worker died (%s, exit code %s) on %s; attempt %d", error, code, url, attempt)
                if attempt == 2:
                    return Outcome(reason="clean_crash", message=f"the cleaner's process died twice (exit code {code})")
                continue
            self._idle.put(worker)
            if result[0] == "bug":
                raise CleanerBug(f"the cleaner raised on {url}:\n{result[1]}")
            if result[0] == "ok":
                return Outcome(value=result[1])
            _, reason, message, text = result
            return Outcome(reason=reason, message=message, text=text)
        raise AssertionError("unreachable: the loop returns on its second attempt")

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.stop()


def run_inline(clean: Callable[..., Any], body: bytes, url: str | None, headers: Mapping[str, str]) -> Outcome:
    """The same outcome without a pool (CLEAN_POOL_SIZE = 0): in the calling thread, no budget."""
    from scraper.cleaner.article import CleanError

    try:
        return Outcome(value=clean(body, url=url, headers=dict(headers)).to_dict())
    except CleanError as error:
        return Outcome(reason=error.reason, message=str(error), text=error.text)
