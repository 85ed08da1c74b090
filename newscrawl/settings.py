"""Scrapy settings for newscrawl: polite by default; tunables from the environment.

Our own knobs are prefixed ``NEWSCRAWL_``; any can be overridden per run with ``-s NAME=value``.
"""

from __future__ import annotations

import os

from newscrawl import __version__
from newscrawl.crawl import integrity
from newscrawl.crawl.replay import RECORDER_PRIORITY, REPLAY_PRIORITY
from newscrawl.store.revisits import DEFAULT_AGES

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "newscrawl.ops.commands"  # `scrapy crawl` exits non-zero when the crawl failed

# -- politeness -------------------------------------------------------------------------------
NEWSCRAWL_CONTACT = os.getenv("NEWSCRAWL_CONTACT", "https://github.com/newscrawl/newscrawl")
USER_AGENT = f"newscrawl/{__version__} (news archive crawler; +{NEWSCRAWL_CONTACT})"
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False
CONCURRENT_REQUESTS = int(os.getenv("CONCURRENT_REQUESTS", "16"))
CONCURRENT_REQUESTS_PER_DOMAIN = int(os.getenv("CONCURRENT_REQUESTS_PER_DOMAIN", "4"))
# an article callback yields one item and a listing a few dozen requests; Scrapy starts this many
# tasks per callback output, so its default of 100 only costs time here (measured: ~10% of a crawl)
CONCURRENT_ITEMS = 16
DOWNLOAD_DELAY = float(os.getenv("DOWNLOAD_DELAY", "0.5"))
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = float(os.getenv("AUTOTHROTTLE_MAX_DELAY", "30"))
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024  # bytes; also caps every decompression (newscrawl/crawl/integrity.py)
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy's remote-control HTTP server runs code sent to it: no one in
LOG_FORMATTER = "newscrawl.crawl.logformatter.ArticleLogFormatter"  # items named by URL, never printed whole

# -- retries with exponential backoff (honouring Retry-After) -------------------------------------
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [403, 429, 500, 502, 503, 504, 522, 524, 408]  # 403: many block pages are temporary
NEWSCRAWL_RETRY_BACKOFF_BASE = 2.0  # seconds; doubled at each retry
NEWSCRAWL_RETRY_BACKOFF_MAX = 120.0

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "newscrawl.crawl.retry.BackoffRetryMiddleware": 550,
    "newscrawl.crawl.incremental.ConditionalFeeds": 560,
    "newscrawl.crawl.revisit.RevisitResponses": 545,  # after retries and redirects: final answers only
    "newscrawl.crawl.integrity.CompleteGzip": integrity.PRIORITY,  # before HttpCompressionMiddleware (590)
    "newscrawl.crawl.safety.SafeTargets": 40,  # first in the chain, before OffsiteMiddleware (50)
    "newscrawl.crawl.replay.WarcReplayMiddleware": REPLAY_PRIORITY,
    "newscrawl.crawl.replay.WarcRecorderMiddleware": RECORDER_PRIORITY,
}

# -- safety (newscrawl/crawl/safety.py): http(s) only, no private addresses the operator did not name ---
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
# the address Scrapy connects to is checked too (DNS rebinding); a process-wide Twisted resolver
TWISTED_DNS_RESOLVER = "newscrawl.crawl.safety.PublicAddressResolver"
NEWSCRAWL_ALLOW_PRIVATE_HOSTS = [h for h in os.getenv("NEWSCRAWL_ALLOW_PRIVATE_HOSTS", "").split(",") if h]

SPIDER_MIDDLEWARES = {"newscrawl.crawl.incremental.SkipStoredArticles": 100,
                      "newscrawl.crawl.revisit.RevisitStored": 110}
NEWSCRAWL_INCREMENTAL = os.getenv("NEWSCRAWL_INCREMENTAL", "1") not in ("0", "false", "False", "off")
# -- revisits (newscrawl/crawl/revisit.py): stored articles fetched again at these ages after first seen,
# conditionally; "0s" makes every stored article due at once; empty turns revisits off
NEWSCRAWL_REVISIT_AGES = os.getenv("NEWSCRAWL_REVISIT_AGES", DEFAULT_AGES)
# revisits per run at most; empty: half the requests of the spider's previous run, at least 1,000
NEWSCRAWL_REVISIT_MAX_PER_RUN = os.getenv("NEWSCRAWL_REVISIT_MAX_PER_RUN", "")

# -- discovery ----------------------------------------------------------------------------------
NEWSCRAWL_LISTING_PAGES = int(os.getenv("NEWSCRAWL_LISTING_PAGES", "2"))
NEWSCRAWL_ARCHIVE_MAX_PAGES = int(os.getenv("NEWSCRAWL_ARCHIVE_MAX_PAGES", "30"))
NEWSCRAWL_SITEMAPS = os.getenv("NEWSCRAWL_SITEMAPS", "1") not in ("0", "false", "False", "off")
NEWSCRAWL_RECENT_DAYS = int(os.getenv("NEWSCRAWL_RECENT_DAYS", "2"))
NEWSCRAWL_SITEMAP_MAX_FILES = int(os.getenv("NEWSCRAWL_SITEMAP_MAX_FILES", "200"))
# links (<a href>, feed entries) read from one listing, home page or feed at most (2000); the rest
# of a longer page is not read (newscrawl/cut/links). A sitemap file is read up to 50,000 entries.
NEWSCRAWL_MAX_LINKS_PER_PAGE = int(os.getenv("NEWSCRAWL_MAX_LINKS_PER_PAGE", "2000"))
# bytes (UTF-8) of a page parsed at most, articles and listings alike (1 MiB): a longer page is read
# without its scripts and styles, then cut (newscrawl/cut/html); `python -m newscrawl parse` too
NEWSCRAWL_PARSE_MAX_BYTES = int(os.getenv("NEWSCRAWL_PARSE_MAX_BYTES", str(1024 * 1024)))
# processes that parse article pages, off the reactor (newscrawl/crawl/parsepool.py); default: the
# machine's cores; 0 parses in the crawler's own process
NEWSCRAWL_PARSE_WORKERS = int(os.getenv("NEWSCRAWL_PARSE_WORKERS", str(os.cpu_count() or 1)))

# -- archive / replay (see newscrawl/crawl/replay.py) ---------------------------------------------------
NEWSCRAWL_WARC_OUT = os.getenv("NEWSCRAWL_WARC_OUT") or None
NEWSCRAWL_REPLAY = os.getenv("NEWSCRAWL_REPLAY") or None

# -- distributed crawling (newscrawl/distributed/): only when NEWSCRAWL_REDIS_URL is set ------
ADDONS = {"newscrawl.distributed.addon.RedisAddon": 100, "newscrawl.crawl.rendering.PlaywrightAddon": 110}
# -- JavaScript rendering (newscrawl/crawl/rendering.py): auto = when NEWSCRAWL_CHROMIUM exists -----------
NEWSCRAWL_PLAYWRIGHT = os.getenv("NEWSCRAWL_PLAYWRIGHT", "auto")
NEWSCRAWL_CHROMIUM = os.getenv("NEWSCRAWL_CHROMIUM", "/usr/bin/chromium")
NEWSCRAWL_REDIS_IDLE_SECONDS = float(os.getenv("NEWSCRAWL_REDIS_IDLE_SECONDS", "10"))
# a worker silent this long is dead: what it held goes back in the queue (renewed every third of it)
NEWSCRAWL_REDIS_HEARTBEAT_SECONDS = int(os.getenv("NEWSCRAWL_REDIS_HEARTBEAT_SECONDS", "30"))
# seconds a worker waits for an unavailable Redis before it closes with reason redis_unavailable (60)
NEWSCRAWL_REDIS_OUTAGE_SECONDS = float(os.getenv("NEWSCRAWL_REDIS_OUTAGE_SECONDS", "60"))
NEWSCRAWL_BLOOM_CAPACITY = int(os.getenv("NEWSCRAWL_BLOOM_CAPACITY", "10000000"))
NEWSCRAWL_BLOOM_ERROR_RATE = float(os.getenv("NEWSCRAWL_BLOOM_ERROR_RATE", "0.001"))

# -- extensions: the crawl's services, which its components find with crawler.get_extension (its storage,
# newscrawl/store/service.py; the hosts it may reach, newscrawl/crawl/safety.py); run records and alerts
# (newscrawl/ops/runs.py, newscrawl/ops/alerts.py); the outcome, failed pages and progress of the crawl
EXTENSIONS = {"newscrawl.store.service.StorageService": 0, "newscrawl.crawl.safety.TargetPolicy": 0,
              "newscrawl.ops.runs.RunRecorder": 500, "newscrawl.ops.outcome.CrawlOutcome": 510,
              "newscrawl.crawl.failures.FailedPages": 490, "newscrawl.ops.progress.ProgressFile": 520}
# the failed article pages a run record keeps with their reason (the rest are counted): stats --failed
NEWSCRAWL_FAILED_PAGES_KEEP = 100
NEWSCRAWL_WEBHOOK_URL = os.getenv("NEWSCRAWL_WEBHOOK_URL") or None  # may carry a token: never logged
NEWSCRAWL_RUN_SUMMARY = os.getenv("NEWSCRAWL_RUN_SUMMARY") or None
# a run record and alerts for this crawl: set by `scrapy crawl` and `scrapy runspider` (so `newscrawl
# run` and cron); `scrapy parse`, `check` and `shell` record nothing and never count toward alerts
NEWSCRAWL_RECORD_RUN = False
# the crawl's counts every second, for `newscrawl run`'s live line on a terminal (newscrawl/ops/progress.py)
NEWSCRAWL_PROGRESS_FILE = None

# -- items ----------------------------------------------------------------------------------------
# each usable alone; the identity the parse worker gave an article is brought up to date after cleaning
ITEM_PIPELINES = {
    "pipelines.clean.CleanPipeline": 100,
    "pipelines.identity.IdentityPipeline": 150,
    "pipelines.dedupe.DedupePipeline": 200,
    "pipelines.store.StorePipeline": 300,
}

# -- storage (see newscrawl/store/database.py); unset MONGO_URI = the embedded server (store/server.py) ------
MONGO_URI = os.getenv("MONGO_URI") or None  # may hold a password: read from the environment only
MONGO_DATABASE = os.getenv("MONGO_DATABASE", "newscrawl")
FEED_EXPORT_ENCODING = "utf-8"
# -O out.csv / out.xml: one flat cell per field, no "None" (newscrawl/ops/exporters.py)
FEED_EXPORTERS = {"csv": "newscrawl.ops.exporters.FlatCsvItemExporter",
                  "xml": "newscrawl.ops.exporters.PlainXmlItemExporter"}
LOG_LEVEL = os.getenv("LOG_LEVEL", "INFO")
