"""Every Scrapy stats name the project writes or reads, defined once, grouped by step of the flow.

The project's own counters are under ``newscrawl/``; a few it keeps as Scrapy would (the Redis
scheduler's, the gzip decoder's) have Scrapy's names, and the Scrapy counters the run records, the
outcome and the progress line read are at the end. A family of counters named at run time (a block
reason, a field, an exception class) has a ``*_PREFIX`` constant: the writer appends what it counts,
the reader takes every name that starts with it. A writer and its readers share one constant, and a
misspelt constant fails at import. This module imports nothing of the project, so every floor of it
may use it; ``tests/test_stats_names.py`` keeps stats names out of the rest of the code.
"""

from __future__ import annotations

# -- discovery: feeds, listings, archives, sitemaps -------------------------------------------------

#: feeds read (a 304 answer is not counted)
FEEDS_FETCHED = "newscrawl/feeds_fetched"
#: feed requests whose answer was not text
NOT_FEED = "newscrawl/not_feed"
#: article requests made from feed entries
FEED_ENTRIES = "newscrawl/feed_entries"
#: feed entries that link no article page of the site
FEED_ENTRIES_SKIPPED = "newscrawl/feed_entries_skipped"
#: conditional feed requests answered 304 (unchanged since the last run)
FEEDS_NOT_MODIFIED = "newscrawl/feeds_not_modified"
#: feeds a home page announces (generic spider)
FEEDS_ANNOUNCED = "newscrawl/feeds_announced"
#: listing and archive pages read
LISTINGS_FETCHED = "newscrawl/listings_fetched"
#: article links found on listing and archive pages
LISTING_LINKS = "newscrawl/listing_links"
#: days of a backfill's window
BACKFILL_DAYS = "newscrawl/backfill/days"
#: days of a backfill's window whose archive pages have all been read (or failed)
BACKFILL_DAYS_DONE = "newscrawl/backfill/days_done"
#: sitemaps robots.txt names (``/sitemap.xml`` when it names none)
SITEMAPS_IN_ROBOTS = "newscrawl/sitemaps_in_robots"
#: sitemap files read
SITEMAPS_FETCHED = "newscrawl/sitemaps_fetched"
#: sitemap answers that are no sitemap
SITEMAP_UNREADABLE = "newscrawl/sitemap_unreadable"
#: child sitemaps of an index left out: dated outside the window
SITEMAPS_OUTSIDE_WINDOW = "newscrawl/sitemaps_outside_window"
#: child sitemaps of an index left out: over ``NEWSCRAWL_SITEMAP_MAX_FILES``
SITEMAPS_CAPPED = "newscrawl/sitemaps_capped"
#: article requests made from sitemap entries
SITEMAP_ENTRIES = "newscrawl/sitemap_entries"
#: sitemap entries dated outside the window
SITEMAP_ENTRIES_OUTSIDE_WINDOW = "newscrawl/sitemap_entries_outside_window"
#: sitemap entries that link no article page of the site
SITEMAP_ENTRIES_SKIPPED = "newscrawl/sitemap_entries_skipped"

# -- incremental runs and revisits ------------------------------------------------------------------

#: batches of article links checked against the stored articles
INCREMENTAL_BATCHES = "newscrawl/incremental/batches"
#: stored article links fetched again: the feed or sitemap gives a later time than the stored one
INCREMENTAL_REFETCH_MODIFIED = "newscrawl/incremental/refetch_modified"
#: article links not fetched: stored and unchanged
INCREMENTAL_SKIPPED_STORED = "newscrawl/incremental/skipped_stored"
#: + what a revisit of a stored article found (the constants below)
REVISIT_PREFIX = "newscrawl/revisit/"
#: stored articles due for a revisit this run
REVISIT_DUE = "newscrawl/revisit/due"
#: stored articles due, left for the next run (over ``NEWSCRAWL_REVISIT_MAX_PER_RUN``)
REVISIT_LEFT = "newscrawl/revisit/left"
#: revisits answered 200
REVISIT_FETCHED = "newscrawl/revisit/fetched"
#: revisits answered 304
REVISIT_NOT_MODIFIED = "newscrawl/revisit/not_modified"
#: revisits answered gone (the article was taken down)
REVISIT_REMOVED = "newscrawl/revisit/removed"
#: revisits answered with any other status
REVISIT_FAILED = "newscrawl/revisit/failed"

# -- fetching: safety, retries, blocks, bounded bodies, rendering, WARC -----------------------------

#: + the reason a request was refused (``scheme``, ``private_address``, ``invalid_host``, ``websocket``)
UNSAFE_PREFIX = "newscrawl/unsafe/"
#: WebSockets refused in the browser
UNSAFE_WEBSOCKET = "newscrawl/unsafe/websocket"
#: seconds of backoff before retries, summed
RETRY_BACKOFF_SECONDS = "newscrawl/retry/backoff_seconds"
#: block pages (any reason)
BLOCKED = "newscrawl/blocked"
#: + the block reason (``captcha``, ``http_429``, ``javascript_required``...)
BLOCKED_PREFIX = "newscrawl/blocked/"
#: + the exception class of a network error that outlasted every retry
NETWORK_FAILURES_PREFIX = "newscrawl/network_failures/"
#: pages requested again through the browser (no body in the static page, or a JavaScript check)
RENDERED_RETRY = "newscrawl/rendered_retry"
#: gzip bodies cut short in transfer
TRUNCATED_GZIP = "newscrawl/truncated/gzip"
#: + what was cut at a size limit (``decompression``, ``links``, ``sitemap_urls``, ``html``, a field...)
CUT_PREFIX = "newscrawl/cut/"
#: bodies that decompress past ``DOWNLOAD_MAXSIZE``
CUT_DECOMPRESSION = "newscrawl/cut/decompression"
#: pages with more links than ``NEWSCRAWL_MAX_LINKS_PER_PAGE`` (the rest not read)
CUT_LINKS = "newscrawl/cut/links"
#: sitemaps with more entries than are read
CUT_SITEMAP_URLS = "newscrawl/cut/sitemap_urls"
#: requests answered from the WARC archive (``NEWSCRAWL_REPLAY``)
REPLAY_HITS = "newscrawl/replay/hits"
#: requests not in the WARC archive (answered 404)
REPLAY_MISSING = "newscrawl/replay/missing"
#: responses written to the WARC archive (``NEWSCRAWL_WARC_OUT``)
WARC_RECORDS_WRITTEN = "newscrawl/warc/records_written"

# -- parsing ----------------------------------------------------------------------------------------

#: responses to article requests
ARTICLE_RESPONSES = "newscrawl/article_responses"
#: responses that are no page of text
NOT_HTML = "newscrawl/not_html"
#: pages dropped: their scripts build the article and rendering is off
NOT_RENDERED = "newscrawl/not_rendered"
#: pages the parser found to be no article
NOT_ARTICLE = "newscrawl/not_article"
#: pages the parser failed on
PARSE_ERRORS = "newscrawl/parse_error"
#: articles parsed
ARTICLES_PARSED = "newscrawl/articles_parsed"
#: + ``<field>/<layer>``: the layer (jsonld, meta, html, generic...) that answered a field
LAYER_PREFIX = "newscrawl/layer/"
#: + a field: the articles parsed with that field filled
FILL_PREFIX = "newscrawl/fill/"
#: + a count the parser reports among an article's layers (``published_rejected``: date candidates turned down)
PARSER_COUNT_PREFIX = "newscrawl/"
#: processes of the parse pool
PARSE_POOL_WORKERS = "newscrawl/parse_pool/workers"
#: pages parsed in the pool
PARSE_POOL_PARSED = "newscrawl/parse_pool/parsed"
#: times the pool was replaced after a worker died
PARSE_POOL_RESTARTED = "newscrawl/parse_pool/restarted"
#: pages parsed again alone after their worker died
PARSE_POOL_REPARSED = "newscrawl/parse_pool/reparsed"

# -- items: validation and dedupe -------------------------------------------------------------------

#: URLs other than http(s) dropped from articles' fields
UNSAFE_URLS_DROPPED = "newscrawl/unsafe_url_dropped"
#: articles stored before that changed since (stored as an update)
DEDUPE_CHANGED = "newscrawl/dedupe/changed"
#: duplicates whose original is not stored, so their URL could not be recorded on it
DEDUPE_UNRECORDED_DUPLICATE_URLS = "newscrawl/dedupe/unrecorded_duplicate_urls"

# -- storage ----------------------------------------------------------------------------------------

#: 1 when MongoDB was unreachable as the crawl started
MONGO_UNAVAILABLE_AT_START = "newscrawl/mongo/unavailable_at_start"
#: times MongoDB was marked down for a cool-off
MONGO_OUTAGES = "newscrawl/mongo/outages"
#: bulk writes retried
MONGO_WRITE_RETRIES = "newscrawl/mongo/write_retries"
#: bulk writes done
MONGO_BATCHES = "newscrawl/mongo/batches"
#: articles inserted
MONGO_INSERTED = "newscrawl/mongo/inserted"
#: stored articles updated (a new revision)
MONGO_UPDATED = "newscrawl/mongo/updated"
#: articles already stored in this version (nothing written)
MONGO_UNCHANGED = "newscrawl/mongo/unchanged"
#: revisit outcomes written to the stored articles
MONGO_REVISIT_OUTCOMES = "newscrawl/mongo/revisit_outcomes"
#: times the database had no room left to write
MONGO_STORAGE_FULL = "newscrawl/mongo/storage_full"
#: documents the driver or the server refused, set aside in the quarantine
MONGO_QUARANTINED = "newscrawl/mongo/quarantined"
#: articles spilled to disk (written on the next start or by ``flush-spill``)
MONGO_SPILLED = "newscrawl/mongo/spilled"
#: articles neither stored nor spilled (fetched again on the next run)
MONGO_UNSAVED = "newscrawl/mongo/unsaved"
#: spilled documents read back for writing
MONGO_SPILL_REPLAYED = "newscrawl/mongo/spill_replayed"
#: spill file lines that hold no document (quarantined)
SPILL_BAD_LINES = "newscrawl/spill/bad_lines"

# -- a crawl shared on Redis ------------------------------------------------------------------------

#: links held back while Redis was unreachable
REDIS_HELD_BACK = "newscrawl/redis/held_back"
#: times Redis answered again after an outage (held-back links handed on)
REDIS_RECONNECTED = "newscrawl/redis/reconnected"
#: seconds Redis stayed unreachable before the crawl gave up
REDIS_OUTAGE_SECONDS = "newscrawl/redis/outage_seconds"
#: requests of a lost shared crawl this worker knows were never done
REDIS_NEVER_DONE = "newscrawl/redis/never_done"
#: requests of a dead worker queued again
REDIS_RECOVERED_REQUESTS = "newscrawl/redis/recovered_requests"
#: requests queued on Redis (Scrapy's scheduler naming)
SCHEDULER_ENQUEUED_REDIS = "scheduler/enqueued/redis"
#: requests taken from Redis (Scrapy's scheduler naming)
SCHEDULER_DEQUEUED_REDIS = "scheduler/dequeued/redis"
#: requests the shared Bloom filter found seen (Scrapy's dupefilter naming)
DUPEFILTER_FILTERED = "dupefilter/filtered"

# -- the end of a crawl -----------------------------------------------------------------------------

#: the crawl's exit code (0 or 1)
EXIT_CODE = "newscrawl/exit_code"
#: the one line that says how the crawl ended
EXIT_CAUSE = "newscrawl/exit_cause"
#: alert webhooks that failed
WEBHOOK_FAILED = "newscrawl/webhook_failed"

# -- Scrapy's own counters ---------------------------------------------------------------------------

#: responses received
RESPONSES_RECEIVED = "response_received_count"
#: + an HTTP status: responses with that status
STATUS_COUNT_PREFIX = "downloader/response_status_count/"
#: retries
RETRIES = "retry/count"
#: items that went through every pipeline
ITEMS_SCRAPED = "item_scraped_count"
#: + a drop reason (the ``DropItem`` subclass): items dropped for it
DROPPED_REASONS_PREFIX = "item_dropped_reasons_count/"
#: ERROR lines logged
ERRORS_LOGGED = "log_count/ERROR"
#: bytes of gzip bodies decoded (as ``HttpCompressionMiddleware`` counts them)
HTTPCOMPRESSION_RESPONSE_BYTES = "httpcompression/response_bytes"
#: gzip bodies decoded (as ``HttpCompressionMiddleware`` counts them)
HTTPCOMPRESSION_RESPONSE_COUNT = "httpcompression/response_count"
