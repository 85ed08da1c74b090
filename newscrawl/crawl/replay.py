"""WARC archiving and offline replay, as Scrapy downloader middlewares.

- ``NEWSCRAWL_WARC_OUT=crawl.warc.gz``: :class:`WarcRecorderMiddleware` writes every downloaded
  response (status, headers, body as received) as a WARC ``response`` record, followed by the
  ``request`` record (method, headers) that points at it with ``WARC-Concurrent-To``.
- ``NEWSCRAWL_REPLAY=crawl.warc.gz``: :class:`WarcReplayMiddleware` answers every request from the
  archive and never touches the network; a URL the archive lacks gets an empty 404 (counted as
  ``newscrawl/replay/missing``). robots.txt is answered the same way: a 404 means allow-all.

The project settings enable both (each stays off unless its setting is given)::

    DOWNLOADER_MIDDLEWARES = {
        "newscrawl.crawl.replay.WarcReplayMiddleware": 950,
        "newscrawl.crawl.replay.WarcRecorderMiddleware": 951,
    }

Ordering: ``process_request`` runs from low to high priority, ``process_response`` from high to
low. At 950/951 both sit next to the downloader, after every built-in middleware (robots.txt 100,
compression 590, redirects 600, stats 850, cache 900): the recorder sees the response before
HttpCompressionMiddleware decodes it, so bodies are stored as downloaded (still gzip-compressed
when ``Content-Encoding`` says so), and the replay injects such a raw response at the same point,
so decompression, redirects (301/302 + ``Location``), retries and HTTP error handling process it
exactly like a live one. A response returned by a ``process_request`` goes through the
``process_response`` of *every* middleware, the recorder above the replay included: replayed
responses carry the :data:`REPLAYED_FLAG` flag and the recorder skips them.

:func:`write_warc` and :func:`read_warc` (the replay's index) are the same code path for scripts
that build archives from saved pages.

Reading a record decompresses it (a ``.warc.gz`` record is a gzip member), and a record is read
only up to the size limit (``DOWNLOAD_MAXSIZE``, see :func:`newscrawl.crawl.integrity.decompression_limit`):
a response body over it is left out of the index, as the live crawl would have cancelled its
download, and counted as ``newscrawl/cut/decompression`` (one warning per record).
"""

from __future__ import annotations

import gzip
import zlib

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.client import responses as reason_phrases
from io import BytesIO
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes
from w3lib.url import canonicalize_url, safe_url_string
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newscrawl.crawl.integrity import FALLBACK_MAX_SIZE, decompression_limit
from newscrawl.stats import CUT_DECOMPRESSION, REPLAY_HITS, REPLAY_MISSING, WARC_RECORDS_WRITTEN

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

REPLAYED_FLAG = "replayed"

RequestLine = tuple[str, list[tuple[str, str]]]  # method, headers


@dataclass
class ArchivedResponse:
    """One HTTP response as kept in a WARC file."""

    url: str
    status: int = 200
    headers: dict[str, str] | list[tuple[str, str]] = field(default_factory=dict)
    body: bytes = b""

    def header_pairs(self) -> list[tuple[str, str]]:
        """Headers as (name, value) pairs."""
        return list(self.headers.items()) if isinstance(self.headers, dict) else list(self.headers)


def archive_key(url: str) -> str:
    """The lookup key of a URL: canonical form (percent-encoded, sorted query, no fragment)."""
    return canonicalize_url(url, keep_fragments=False)


def _write_record(writer: WARCWriter, response: ArchivedResponse, request: RequestLine | None = None) -> None:
    """A ``response`` record, then its ``request`` record (method, headers) when given."""
    url = safe_url_string(response.url)  # WARC-Target-URI must be a URI: non-ASCII is percent-encoded
    status_line = f"{response.status} {reason_phrases.get(response.status, 'Unknown')}"
    http_headers = StatusAndHeaders(status_line, response.header_pairs(), protocol="HTTP/1.1")
    record = writer.create_warc_record(url, "response", payload=BytesIO(response.body), http_headers=http_headers)
    if request is None:
        writer.write_record(record)
        return
    method, request_headers = request
    split = urlsplit(url)
    if not any(name.lower() == "host" for name, _ in request_headers):
        request_headers = [("Host", split.netloc), *request_headers]  # sent by the HTTP client, not in request.headers
    target = (split.path or "/") + (f"?{split.query}" if split.query else "")
    request_line = StatusAndHeaders(f"{method} {target} HTTP/1.1", request_headers, is_http_request=True)
    writer.write_request_response_pair(
        writer.create_warc_record(url, "request", payload=BytesIO(b""), http_headers=request_line), record
    )


def write_warc(path: str | Path, records: Iterable[ArchivedResponse]) -> int:
    """Write ``records`` as WARC response records (gzip when the name ends in ``.gz``); return the count."""
    path = Path(path)
    count = 0
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=path.name.endswith(".gz"))
        for record in records:
            _write_record(writer, record)
            count += 1
    return count


def read_warc(path: str | Path, max_body: int = FALLBACK_MAX_SIZE) -> dict[str, ArchivedResponse]:
    """Index the ``response`` records of a WARC file by :func:`archive_key` (see :func:`index_warc`)."""
    return index_warc(path, max_body)[0]


def index_warc(path: str | Path, max_body: int = FALLBACK_MAX_SIZE) -> tuple[dict[str, ArchivedResponse], list[str]]:
    """The ``response`` records of a WARC file by :func:`archive_key`, and the URLs of those left
    out because their body is longer than ``max_body`` bytes (read no further than that).

    Bodies are kept as stored (still compressed if they were downloaded so). When a URL was archived
    more than once (a retried 503, then its 200), the last record wins, as the crawl's final answer.
    Raises FileNotFoundError or ValueError, naming the path, for a missing or non-WARC file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"replay archive not found: {path}")
    with path.open("rb") as stream:
        magic = stream.read(5)
    if magic and not (magic.startswith(b"\x1f\x8b") or magic == b"WARC/"):  # empty: no records
        raise ValueError(f"{path} is not a WARC file: it starts with {magic!r}")
    index: dict[str, ArchivedResponse] = {}
    oversized: list[str] = []
    try:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                body = record.raw_stream.read(max_body + 1)  # as downloaded: content_stream() would decode gzip
                if len(body) > max_body:
                    index.pop(archive_key(url), None)
                    oversized.append(url)
                    logger.warning("archived body over %d bytes, not replayed: %s", max_body, url)
                    continue
                index[archive_key(url)] = ArchivedResponse(
                    url=url,
                    status=int(record.http_headers.get_statuscode()),
                    headers=list(record.http_headers.headers),
                    body=body,
                )
    except ArchiveLoadFailed as exc:
        raise ValueError(f"{path} is not a WARC file: {exc}") from exc
    if magic.startswith(b"\x1f\x8b") and not gzip_complete(path):
        raise ValueError(f"{path} is cut short (its gzip stream ends early): {len(index)} responses read before the cut")
    return index, oversized


def archive_problem(path: str | Path) -> str | None:
    """What makes ``path`` unusable as a replay archive (missing, not a WARC, cut short), if anything:
    checked before a crawl starts, so that a bad archive is one line, not a traceback."""
    path = Path(path)
    if not path.is_file():
        return f"NEWSCRAWL_REPLAY={path}: no such file"
    with path.open("rb") as stream:
        magic = stream.read(5)
    if magic and not (magic.startswith(b"\x1f\x8b") or magic == b"WARC/"):
        return f"NEWSCRAWL_REPLAY={path}: not a WARC file (it starts with {magic!r})"
    if magic.startswith(b"\x1f\x8b") and not gzip_complete(path):
        return f"NEWSCRAWL_REPLAY={path}: the archive is cut short (its gzip stream ends early)"
    return None


def gzip_complete(path: Path) -> bool:
    """Whether the gzip file at ``path`` ends where its last member says it does (a copy or a
    download cut short does not; warcio stops at the cut without a word)."""
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except (EOFError, OSError, zlib.error):
        return False
    return True


class WarcReplayMiddleware:
    """Answer requests from a WARC archive (``NEWSCRAWL_REPLAY``); unknown URLs get an empty 404."""

    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler = crawler
        self.path = path
        self.index, oversized = index_warc(path, decompression_limit(crawler.settings.getint("DOWNLOAD_MAXSIZE")))
        if oversized:
            crawler.stats.inc_value(CUT_DECOMPRESSION, len(oversized))
        if not self.index:
            logger.warning("%s holds no responses: every request will get a 404", path)
        logger.info("replaying %d archived responses from %s; no network is used", len(self.index), path)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Enabled by ``NEWSCRAWL_REPLAY``."""
        path = crawler.settings.get("NEWSCRAWL_REPLAY")
        if not path:
            raise NotConfigured  # without a message: Scrapy would log one as a WARNING on every crawl
        return cls(crawler, str(path))

    def process_request(self, request: Request) -> Response:
        """The archived response for ``request`` (raw, as downloaded), or an empty 404."""
        stats = self.crawler.stats
        archived = self.index.get(archive_key(request.url))
        if archived is None:
            stats.inc_value(REPLAY_MISSING)
            logger.debug("not in the archive: %s", request.url)
            return Response(url=request.url, status=404, request=request, flags=[REPLAYED_FLAG])
        stats.inc_value(REPLAY_HITS)
        headers = Headers(archived.header_pairs())
        response_cls = responsetypes.from_args(headers=headers, url=request.url, body=archived.body)
        return response_cls(
            url=request.url,
            status=archived.status,
            headers=headers,
            body=archived.body,
            request=request,
            flags=[REPLAYED_FLAG],
        )


class WarcRecorderMiddleware:
    """Write every downloaded response to a WARC file (``NEWSCRAWL_WARC_OUT``)."""

    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler = crawler
        self.path = Path(path)
        self._stream: IO[bytes] | None = None
        self._writer: WARCWriter | None = None
        crawler.signals.connect(self._open, signal=signals.spider_opened)
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Enabled by ``NEWSCRAWL_WARC_OUT``."""
        path = crawler.settings.get("NEWSCRAWL_WARC_OUT")
        if not path:
            raise NotConfigured  # without a message: Scrapy would log one as a WARNING on every crawl
        return cls(crawler, str(path))

    def _open(self) -> WARCWriter:
        """The archive's writer, opening the file on first use."""
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = self.path.open("wb")
            self._writer = WARCWriter(self._stream, gzip=self.path.name.endswith(".gz"))
            logger.info("archiving every response to %s", self.path.resolve())
        return self._writer

    def process_response(self, request: Request, response: Response) -> Response:
        """Archive ``response`` as downloaded (replayed responses are not archived again)."""
        if REPLAYED_FLAG in response.flags:
            return response
        archived = ArchivedResponse(response.url, response.status, _header_pairs(response.headers), response.body)
        _write_record(self._open(), archived, (request.method, _header_pairs(request.headers)))
        self.crawler.stats.inc_value(WARC_RECORDS_WRITTEN)
        return response

    def close(self) -> None:
        """Flush and close the archive at the end of the crawl."""
        if self._stream is not None:
            self._stream.close()
            logger.info("archive written: %s", self.path.resolve())
            self._stream = self._writer = None


def _header_pairs(headers: Headers) -> list[tuple[str, str]]:
    """Scrapy's (bytes, multi-valued) headers as (name, value) string pairs."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, values in headers.items() for value in values]
