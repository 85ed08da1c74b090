"""Bodies that arrived whole but cannot be decoded whole: a truncated gzip stream.

Scrapy's ``HttpCompressionMiddleware`` gunzips "as much as possible": a gzip body cut short yields
half a page (parsed and stored as a shorter article), and one cut inside the gzip header raises
from the middleware (logged as an error, counted nowhere). :class:`CompleteGzip` runs just before
it (priority 595: above ``HttpCompressionMiddleware``'s 590) and refuses such responses, counted as
``newscrawl/truncated/gzip``.
"""

from __future__ import annotations

import logging
import zlib

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

logger = logging.getLogger(__name__)
_CHUNK = 1 << 16
#: the priority to enable :class:`CompleteGzip` with in ``DOWNLOADER_MIDDLEWARES``
PRIORITY = 595


def gzip_complete(body: bytes, max_size: int = 0) -> bool:
    """Whether ``body`` holds a whole gzip member (checked without keeping the output; reading
    stops with True past ``max_size`` decompressed bytes, which the size limit refuses anyway)."""
    stream = zlib.decompressobj(wbits=31)
    data, size = body, 0
    while data and not stream.eof:
        try:
            out = stream.decompress(data, _CHUNK)
        except zlib.error:
            return False
        size += len(out)
        if max_size and size > max_size:
            return True
        data = stream.unconsumed_tail
    return stream.eof


class TruncatedBody(IgnoreRequest):
    """A response whose content encoding does not decode to its end."""


class CompleteGzip:
    """Downloader middleware: refuse gzip-encoded responses whose stream is cut short."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_size = crawler.settings.getint("DOWNLOAD_MAXSIZE")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CompleteGzip:
        """Scrapy's middleware constructor."""
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        """Pass the response on, or raise :class:`TruncatedBody` for a truncated gzip body."""
        encoding = response.headers.get("Content-Encoding", b"").strip().lower()
        if encoding not in (b"gzip", b"x-gzip") or not response.body:
            return response
        if gzip_complete(response.body, request.meta.get("download_maxsize", self.max_size)):
            return response
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("newscrawl/truncated/gzip")
        logger.warning("truncated gzip body (%d bytes): %s", len(response.body), response.url)
        raise TruncatedBody(f"truncated gzip body: {response.url}")
