"""Bodies that arrived whole but cannot be decoded whole, and bodies that decode to too much.

Scrapy's ``HttpCompressionMiddleware`` gunzips "as much as possible": a gzip body cut short yields
half a page (parsed and stored as a shorter article), and one cut inside the gzip header raises
from the middleware (logged as an error, counted nowhere). :class:`CompleteGzip` runs just before
it (priority 595: above ``HttpCompressionMiddleware``'s 590) and refuses such responses, counted as
``newscrawl/truncated/gzip``. A whole gzip body it hands on decoded, as ``HttpCompressionMiddleware``
would (same response class, same ``httpcompression/*`` stats), so no body is gunzipped twice.

Every decompression the crawler does is capped by :func:`decompression_limit`: ``DOWNLOAD_MAXSIZE``,
or a smaller ``download_maxsize`` the request or the spider gives (0 there means "not given", never
"unlimited"; with ``DOWNLOAD_MAXSIZE = 0`` the cap is :data:`FALLBACK_MAX_SIZE`). A gzip-encoded
response that decodes to more is refused by :class:`CompleteGzip`; gzipped files the spider reads
itself (``sitemap.xml.gz``) are decompressed incrementally by :class:`BoundedGunzip`, which stops
at the cap. Either way the cut is counted as ``newscrawl/cut/decompression``.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.responsetypes import responsetypes

from newscrawl.defaults import default
from newscrawl.stats import (
    CUT_DECOMPRESSION,
    HTTPCOMPRESSION_RESPONSE_BYTES,
    HTTPCOMPRESSION_RESPONSE_COUNT,
    TRUNCATED_GZIP,
)

logger = logging.getLogger(__name__)
_CHUNK = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"
#: the decompression cap when ``DOWNLOAD_MAXSIZE`` is 0 (Scrapy's "no limit"): the project's default
FALLBACK_MAX_SIZE: int = default("DOWNLOAD_MAXSIZE")


def decompression_limit(download_maxsize: int, *overrides: int | None) -> int:
    """The most bytes a body may decompress to: the smallest positive of ``DOWNLOAD_MAXSIZE`` and
    ``overrides`` (a request's ``download_maxsize`` meta, the spider's attribute); 0 or None
    anywhere means "not set", and with nothing set the cap is :data:`FALLBACK_MAX_SIZE`."""
    sizes = [size for size in (download_maxsize, *overrides) if size and size > 0]
    return min(sizes) if sizes else FALLBACK_MAX_SIZE


def response_limit(crawler: Crawler, request: Request | None) -> int:
    """:func:`decompression_limit` for a response to ``request`` in ``crawler``'s crawl."""
    meta = request.meta.get("download_maxsize") if request is not None else None
    return decompression_limit(crawler.settings.getint("DOWNLOAD_MAXSIZE"), meta,
                               getattr(crawler.spider, "download_maxsize", None))


class BoundedGunzip:
    """The decompressed chunks of gzip ``data``, at most ``max_size`` bytes in all, decompressed
    as they are read (concatenated members too). After iterating, ``cut`` tells whether the data
    held more than ``max_size`` bytes and ``complete`` whether its last member ended properly; a
    corrupt or truncated stream simply ends the chunks."""

    def __init__(self, data: bytes, max_size: int) -> None:
        self.data = data
        self.max_size = max_size
        self.cut = False
        self.complete = False

    def __iter__(self) -> Iterator[bytes]:
        data, left = self.data, self.max_size
        stream = zlib.decompressobj(wbits=31)
        while True:
            try:
                out = stream.decompress(data, min(_CHUNK, left + 1))
            except zlib.error:
                return
            if len(out) > left:
                self.cut = True
                if left:
                    yield out[:left]
                return
            left -= len(out)
            if out:
                yield out
            if stream.eof:  # a member ended; another may follow
                self.complete = True
                data = stream.unused_data
                if not data.startswith(_GZIP_MAGIC):
                    return
                self.complete = False
                stream = zlib.decompressobj(wbits=31)
                continue
            data = stream.unconsumed_tail
            if not data and not out:  # input used up (a truncated stream ends here)
                return

    def read(self) -> bytes:
        """All the chunks joined."""
        return b"".join(self)


def gunzipped(body: bytes, max_size: int) -> tuple[str, bytes]:
    """``body`` decompressed, and its state: ``"complete"`` when it holds whole gzip data that
    decompresses to at most ``max_size`` bytes, ``"oversized"`` when it decompresses to more, else
    ``"truncated"`` (the bytes then are what could be read, at most ``max_size``)."""
    stream = BoundedGunzip(body, max_size)
    decoded = b"".join(stream)
    if stream.cut:
        return "oversized", decoded
    return ("complete" if stream.complete else "truncated"), decoded


class TruncatedBody(IgnoreRequest):
    """A response whose content encoding does not decode to its end."""


class OversizedBody(IgnoreRequest):
    """A response whose content encoding decodes to more than the size limit."""


class CompleteGzip:
    """Downloader middleware: refuse gzip-encoded responses whose stream is cut short or that
    decompress to more than :func:`decompression_limit`."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CompleteGzip:
        """Scrapy's middleware constructor."""
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        """Pass the response on (a whole gzip body decoded), or raise :class:`TruncatedBody` /
        :class:`OversizedBody`."""
        encoding = response.headers.get("Content-Encoding", b"").strip().lower()
        if encoding not in (b"gzip", b"x-gzip") or not response.body:
            return response
        limit = response_limit(self.crawler, request)
        state, decoded = gunzipped(response.body, limit)
        if state == "complete":
            alone = len(response.headers.getlist("Content-Encoding")) == 1 and b"," not in encoding
            return self._decoded(response, decoded) if alone else response  # else Scrapy decodes the rest
        assert self.crawler.stats is not None
        if state == "oversized":
            self.crawler.stats.inc_value(CUT_DECOMPRESSION)
            logger.warning("gzip body decompresses to more than %d bytes, refused: %s", limit, response.url)
            raise OversizedBody(f"gzip body over {limit} bytes decompressed: {response.url}")
        self.crawler.stats.inc_value(TRUNCATED_GZIP)
        logger.warning("truncated gzip body (%d bytes): %s", len(response.body), response.url)
        raise TruncatedBody(f"truncated gzip body: {response.url}")

    def _decoded(self, response: Response, body: bytes) -> Response:
        """``response`` with its gzip body decoded, as ``HttpCompressionMiddleware`` makes it."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(HTTPCOMPRESSION_RESPONSE_BYTES, len(body))
        self.crawler.stats.inc_value(HTTPCOMPRESSION_RESPONSE_COUNT)
        headers = response.headers.copy()
        del headers["Content-Encoding"]
        cls = responsetypes.from_args(headers=headers, url=response.url, body=body)
        kwargs: dict[str, Any] = {"encoding": None} if issubclass(cls, TextResponse) else {}
        return response.replace(cls=cls, body=body, headers=headers, **kwargs)
