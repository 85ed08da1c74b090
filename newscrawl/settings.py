"""Scrapy settings for newscrawl: polite by default; tunables from the environment.

Our own knobs are prefixed ``NEWSCRAWL_``; any can be overridden per run with ``-s NAME=value``.
Their defaults, and which of them the environment sets, are the table of :mod:`newscrawl.defaults`
(described in docs/SETTINGS.md); this module adds Scrapy's own settings and the components.
"""

from __future__ import annotations

from newscrawl import __version__
from newscrawl.defaults import project_settings

# every setting of the table: the environment's value for those read from there, else the default
# (NEWSCRAWL_CONTACT, CONCURRENT_REQUESTS[_PER_DOMAIN], DOWNLOAD_DELAY, AUTOTHROTTLE_MAX_DELAY, the
# NEWSCRAWL_* tunables, MONGO_URI and MONGO_DATABASE, LOG_LEVEL)
_table = project_settings()
globals().update(_table)

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "newscrawl.ops.commands"  # `scrapy crawl` exits non-zero when the crawl failed

# -- politeness -------------------------------------------------------------------------------
USER_AGENT = f"newscrawl/{__version__} (news archive crawler; +{_table['NEWSCRAWL_CONTACT']})"
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False
# an article callback yields one item and a listing a few dozen requests; Scrapy starts this many
# tasks per callback output, so its default of 100 only costs time here (measured: ~10% of a crawl)
CONCURRENT_ITEMS = 16
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy's remote-control HTTP server runs code sent to it: no one in
LOG_FORMATTER = "newscrawl.crawl.logformatter.ArticleLogFormatter"  # items named by URL, never printed whole

# -- retries with exponential backoff (honouring Retry-After) -------------------------------------
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [403, 429, 500, 502, 503, 504, 522, 524, 408]  # 403: many block pages are temporary

# process_request runs from low to high priority, process_response from high to low
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "newscrawl.crawl.retry.BackoffRetryMiddleware": 550,
    "newscrawl.crawl.incremental.ConditionalFeeds": 560,
    "newscrawl.crawl.revisit.RevisitResponses": 545,  # after retries and redirects: final answers only
    # sees gzip bodies before HttpCompressionMiddleware (590) decodes them
    "newscrawl.crawl.integrity.CompleteGzip": 595,
    "newscrawl.crawl.safety.SafeTargets": 40,  # first in the chain, before OffsiteMiddleware (50)
    # next to the downloader, after every built-in middleware (why: newscrawl/crawl/replay.py)
    "newscrawl.crawl.replay.WarcReplayMiddleware": 950,
    "newscrawl.crawl.replay.WarcRecorderMiddleware": 951,
}

# -- safety (newscrawl/crawl/safety.py): http(s) only, no private addresses the operator did not name ---
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
# the address Scrapy connects to is checked too (DNS rebinding); a process-wide Twisted resolver
TWISTED_DNS_RESOLVER = "newscrawl.crawl.safety.PublicAddressResolver"

# -- incremental crawls and revisits (newscrawl/crawl/incremental.py, newscrawl/crawl/revisit.py) -------
SPIDER_MIDDLEWARES = {"newscrawl.crawl.incremental.SkipStoredArticles": 100,
                      "newscrawl.crawl.revisit.RevisitStored": 110}

# -- distributed crawling (newscrawl/distributed/): only when NEWSCRAWL_REDIS_URL is set ------
# -- JavaScript rendering (newscrawl/crawl/rendering.py): auto = when NEWSCRAWL_CHROMIUM exists -----------
ADDONS = {"newscrawl.distributed.addon.RedisAddon": 100, "newscrawl.crawl.rendering.PlaywrightAddon": 110}

# -- extensions: the crawl's services, which its components find with crawler.get_extension (its storage,
# newscrawl/store/service.py; the hosts it may reach, newscrawl/crawl/safety.py); run records and alerts
# (newscrawl/ops/runs.py, newscrawl/ops/alerts.py); the outcome, failed pages and progress of the crawl
EXTENSIONS = {"newscrawl.store.service.StorageService": 0, "newscrawl.crawl.safety.TargetPolicy": 0,
              "newscrawl.ops.runs.RunRecorder": 500, "newscrawl.crawl.outcome.CrawlOutcome": 510,
              "newscrawl.crawl.failures.FailedPages": 490, "newscrawl.ops.progress.ProgressFile": 520}

# -- items ----------------------------------------------------------------------------------------
# each usable alone; the identity the parse worker gave an article is brought up to date after cleaning
ITEM_PIPELINES = {
    "pipelines.clean.CleanPipeline": 100,
    "pipelines.identity.IdentityPipeline": 150,
    "pipelines.dedupe.DedupePipeline": 200,
    "pipelines.store.StorePipeline": 300,
}

# -- storage (see newscrawl/store/database.py); unset MONGO_URI = the embedded server (store/server.py) ------
FEED_EXPORT_ENCODING = "utf-8"
# -O out.csv / out.xml: one flat cell per field, no "None" (newscrawl/ops/exporters.py)
FEED_EXPORTERS = {"csv": "newscrawl.ops.exporters.FlatCsvItemExporter",
                  "xml": "newscrawl.ops.exporters.PlainXmlItemExporter"}
