"""SpillingScheduler: Scrapy's scheduler with its request queues on disk even when the crawl has no JOBDIR.

A crawl finds every article from the list pages before it fetches most of them; in memory the waiting
requests cost a few KB each, so a portal twice as large took twice that memory. On disk they cost none.
"""

from __future__ import annotations

import logging
import shutil
import tempfile

from scrapy.core.scheduler import Scheduler
from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)


class SpillingScheduler(Scheduler):
    """Without a JOBDIR, the disk queues live in a temporary directory removed when the crawl closes.

    With a JOBDIR it is Scrapy's scheduler unchanged: the queues are kept there for a resume.
    """

    _spill: str | None = None

    def _dqdir(self, jobdir: str | None) -> str | None:
        if jobdir:
            return super()._dqdir(jobdir)
        self._spill = tempfile.mkdtemp(prefix="newsarchive-requests-")
        return self._spill

    def close(self, reason: str) -> Deferred[None] | None:
        result = super().close(reason)
        if self._spill is not None:  # nothing to resume from without a JOBDIR
            try:
                shutil.rmtree(self._spill)
            except OSError as error:
                logger.warning("could not remove the request queues in %s: %s", self._spill, error)
            self._spill = None
        return result
