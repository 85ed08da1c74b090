"""Crawling: the spider base every site spider inherits, discovery (feeds, sitemaps, listings), the
downloader and spider middlewares a request and its response pass through (retry, safety,
integrity, incremental, rendering, replay) and how a crawl ended (its outcome and exit code)."""
