"""Scrapy settings of the newsarchive project: every default in one module.
Our own settings carry the ARCHIVE_, CLEAN_ and PORTAL_ prefixes and are described again where they are read."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

BOT_NAME = "newsarchive"

SPIDER_MODULES = ["scraper.spiders"]
NEWSPIDER_MODULE = "scraper.spiders"

# Says who we are and why, so the portal's operators can tell an archive from a scraper farm.
USER_AGENT = "newsarchive/0.1 (archival crawler for a public news portal; slow, robots.txt-obeying; contact in README)"

ROBOTSTXT_OBEY = True

# Politeness. AutoThrottle aims at TARGET_CONCURRENCY requests in flight per
# server, deriving the delay from measured latency (delay = latency / target).
# It starts at 1 s, so a remote portal sees a slow first minute; on loopback the
# latency is a few milliseconds, the delay falls towards DOWNLOAD_DELAY (0) within
# a dozen responses and a 300-article replica crawl takes seconds. A slow or
# struggling server raises latency, and with it the delay, up to MAX_DELAY.
# CONCURRENT_REQUESTS_PER_DOMAIN is the hard cap either way.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_DELAY = 0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4

# Every download is bounded in time and size (a request without a timeout can hang a crawl for good).
# A download over either limit fails; after the retries the URL is skipped as `timeout` or `too_large`.
DOWNLOAD_TIMEOUT = 30
# A news article is well under 1 MiB; anything near 16 MiB is not a page we want.
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024

# Scope: the spider pins the crawl to the start URL's host and port: it checks every link before
# following it, and ScopeMiddleware fails any request or redirect off that host+port (and redirect
# loops) into the spider's errback, which books the URL as skipped. It sits above RedirectMiddleware
# (600) so that it sees a redirect before one is followed.
DOWNLOADER_MIDDLEWARES = {
    "scraper.middlewares.ScopeMiddleware": 650,
    # Between the downloader and RetryMiddleware (550): a 429/503 retry waits for the response's Retry-After.
    "scraper.middlewares.RetryAfterMiddleware": 560,
    # A worker of a distributed crawl: a slot of the cluster's budget per request in flight, taken last before the
    # download (after DownloaderStats, 850) and given back first with the response.
    "scraper.cluster.politeness.ClusterPoliteness": 950,
}
# ScopeMiddleware on (False: no host+port or redirect-loop checks on requests; the spider still checks links).
PORTAL_SCOPE_ENABLED = True
# A redirect chain longer than this is given up on (reason redirect_loop).
REDIRECT_MAX_TIMES = 10

# Scrapy's URL-length and depth filters drop a request without telling the spider. BookedFiltersMiddleware
# checks the same limits first and books such a URL as skipped (url_too_long, too_deep) instead.
SPIDER_MIDDLEWARES = {
    "scraper.spidermiddlewares.BookedFiltersMiddleware": 950,
}
# Links longer than this are not followed (Scrapy's default, the longest URL browsers take).
URLLENGTH_LIMIT = 2083
# Links deeper than this below the start URL are not followed (0: no limit, Scrapy's default).
DEPTH_LIMIT = 0

RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# A 429 or 503 with Retry-After is retried no sooner than it asks, but after at most this many seconds
# (RetryAfterMiddleware in scraper/middlewares.py; 0 = do not wait). A portal that asks for more is
# retried after this long all the same: a crawl does not stall for an hour on one page.
PORTAL_RETRY_AFTER_MAX = 60.0

# Redirects stay on (the spider re-checks the host of every article it receives).
REDIRECT_ENABLED = True

TELNETCONSOLE_ENABLED = False

# Progress line, summary and checks; a guard that resets a killed crawl's JOBDIR.
EXTENSIONS = {
    "scraper.extensions.JobdirGuard": 0,
    # Before the monitor: a worker of a distributed crawl keeps the crawl's counts in the stats before the checks read them.
    "scraper.cluster.extension.ClusterWorker": 400,
    "scraper.extensions.CrawlMonitor": 500,
}
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

# The order is the data flow: clean the raw bytes, validate the record, write
# it (with the raw WARC capture) into the archive.
# Waiting requests on disk, so memory does not grow with the portal (scraper/scheduler.py).
SCHEDULER = "scraper.scheduler.SpillingScheduler"

ITEM_PIPELINES = {
    "scraper.pipelines.clean.CleanPipeline": 200,
    "scraper.pipelines.validate.ValidatePipeline": 300,
    "scraper.pipelines.store.ArchivePipeline": 400,
}

# --- our own settings -------------------------------------------------------

# Root of the archive: articles/, quarantine/, warc/, manifests/, index.json. Relative to the
# crawl's working directory; not "archive", the name of our own Python package at the repo root.
ARCHIVE_DIR = "archive-data"
# Names this crawl in records, WARC files and manifests/<crawl_id>.json.
# Generated per process: UTC timestamp plus a short random suffix.
ARCHIVE_CRAWL_ID = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
# JSONL parts roll over at whichever limit comes first; gzip them.
ARCHIVE_MAX_RECORDS = 10_000
ARCHIVE_MAX_BYTES = 256 * 1024 * 1024
ARCHIVE_COMPRESS = True
# Keep the raw HTTP exchanges as WARC files under ARCHIVE_DIR/warc/.
ARCHIVE_WARC_ENABLED = True

# Dotted path of the function that turns raw bytes into an Article.
CLEAN_FUNCTION = "scraper.cleaner.clean_page"
# Worker processes that clean pages while the reactor downloads: None for one per core, 0 to clean in
# the crawl's own process (no time budget then). Read by scraper/pipelines/clean.py.
CLEAN_POOL_SIZE = None
# Seconds a page may take to clean in a worker; over it, the page is quarantined as `clean_timeout`
# (its raw capture kept in the WARC) and the worker replaced. A replica page takes about 10 ms.
CLEAN_TIME_BUDGET = 5.0

# Start URL of the portal when the spider gets no `-a start_url=...`.
PORTAL_START_URL = ""

# Incremental crawls (read in scraper/spiders/incremental.py). List pages and sitemaps are always
# fetched; an article the archive already holds is fetched again only if PORTAL_REFRESH is set,
# if it was fetched more than PORTAL_REVISIT_AFTER ago (e.g. "7d"; "" never), or if the sitemap's
# <lastmod> is later than its fetch.
PORTAL_REFRESH = False
PORTAL_REVISIT_AFTER = ""
# Publication-date bounds, YYYY-MM-DD, inclusive, on the date in the article URL ("" = open).
PORTAL_SINCE = ""
PORTAL_UNTIL = ""
# At most this many article fetches per crawl, the newest first (0 = no limit).
PORTAL_MAX_ARTICLES = 0
# List pages (read in scraper/spiders/portal.py). A hostile or broken site can paginate forever: at most
# PORTAL_MAX_LIST_PAGES list pages are requested per column (as many as a TRS pager is trusted to name; at
# 20 articles a page, 20,000 articles a column; the sitemaps still name any beyond), and a
# column's pagination stops after PORTAL_STALE_LIST_PAGES list pages in a row that show no article not
# already seen on a list page. Both say so in the log and in the summary (0 = no limit).
PORTAL_MAX_LIST_PAGES = 1000
PORTAL_STALE_LIST_PAGES = 5

# Crawl monitor (scraper/extensions.py): seconds between progress lines (0 = none), and the
# share of requests failing (HTTP >= 400 or download errors) above which the crawl has failed.
PORTAL_MONITOR_ENABLED = True
PORTAL_PROGRESS_INTERVAL = 30.0
PORTAL_MAX_ERROR_RATE = 0.5

# Distributed crawls (scraper/cluster/; `newsarchive crawl --redis URL`, one command per worker). The command sets the
# first four for each worker: the Redis server, the crawl it joined (its key prefix there), its worker id, and whether
# it schedules the start URL. "" / False: a crawl of its own.
PORTAL_REDIS_URL = ""
PORTAL_CLUSTER_CRAWL = ""
PORTAL_CLUSTER_WORKER = ""
PORTAL_CLUSTER_SEEDER = False
# Requests in flight to the portal across all workers at most, counted in Redis (0: no cap). Each worker's own
# CONCURRENT_REQUESTS_PER_DOMAIN, DOWNLOAD_DELAY and AutoThrottle still apply (docs/operations.md).
PORTAL_CLUSTER_CONCURRENCY = 8
# Seconds a worker stays alive to the others without renewing its lease (its heartbeat renews it five times as often).
# A worker silent for longer is taken for dead: its unfinished requests go back to the queue.
PORTAL_CLUSTER_LEASE = 30.0
# URLs whose outcome the crawl remembers in Redis, per book (articles, pages, request fingerprints), at most: 0 keeps
# them all (exact; about 100 MB per million URLs, see docs/operations.md). With a limit the older half is forgotten
# when it is reached: such a URL found again is counted and handled again, never taken for seen when it was not.
PORTAL_CLUSTER_SEEN_MAX = 0
