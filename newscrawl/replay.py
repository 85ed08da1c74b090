"""WARC archiving and offline replay, as Scrapy downloader middlewares.

- ``NEWSCRAWL_WARC_OUT=crawl.warc.gz``: :class:`WarcRecorderMiddleware` writes every downloaded
  response (status, headers, body as received) as a WARC ``response`` record, with its ``request``.
- ``NEWSCRAWL_REPLAY=crawl.warc.gz``: :class:`WarcReplayMiddleware` answers every request from the
  archive and never touches the network; a URL the archive lacks gets a 404 (counted as
  ``newscrawl/replay/missing``). robots.txt is answered the same way: 404 means allow-all.

Both sit at the same depth of the chain (:data:`REPLAY_PRIORITY`, :data:`RECORDER_PRIORITY`, after
compression 590 and before the downloader), so the recorder stores raw downloaded bodies and the
replay injects them where the downloader would, and the usual middlewares (redirects,
decompression, retries) process replayed responses exactly like live ones. Settings:
``DOWNLOADER_MIDDLEWARES = {"newscrawl.replay.WarcReplayMiddleware": REPLAY_PRIORITY,
"newscrawl.replay.WarcRecorderMiddleware": RECORDER_PRIORITY}``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes
from w3lib.url import canonicalize_url
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

REPLAY_PRIORITY = 950
RECORDER_PRIORITY = 951
REPLAYED_FLAG = "replayed"


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
    """The lookup key of a URL: canonical form (sorted query, no fragment)."""
    return canonicalize_url(url, keep_fragments=False)


def _write_record(
    writer: WARCWriter, response: ArchivedResponse, request: tuple[str, list[tuple[str, str]]] | None = None
) -> None:
    """A ``response`` record, and the ``request`` record (method, headers) when given."""
    reason = "OK" if response.status == 200 else "-"
    http_headers = StatusAndHeaders(f"{response.status} {reason}", response.header_pairs(), protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(response.url, "response", payload=BytesIO(response.body), http_headers=http_headers))
    if request:
        method, request_headers = request
        split = urlsplit(response.url)
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
        request_line = StatusAndHeaders(f"{method} {target} HTTP/1.1", request_headers, is_http_request=True)
        writer.write_record(writer.create_warc_record(response.url, "request", payload=BytesIO(b""), http_headers=request_line))


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


def read_warc(path: str | Path) -> dict[str, ArchivedResponse]:
    """Index the ``response`` records of a WARC file by :func:`archive_key` (first record wins)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"replay archive not found: {path}")
    with path.open("rb") as stream:
        magic = stream.read(5)
    if not (magic.startswith(b"\x1f\x8b") or magic == b"WARC/"):
        raise ValueError(f"{path} is not a WARC file: it starts with {magic!r}")
    index: dict[str, ArchivedResponse] = {}
    try:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                key = archive_key(url)
                if key not in index:
                    index[key] = ArchivedResponse(
                        url=url,
                        status=int(record.http_headers.get_statuscode()),
                        headers=list(record.http_headers.headers),
                        body=record.raw_stream.read(),  # as downloaded: content_stream() would decode gzip
                    )
    except ArchiveLoadFailed as exc:
        raise ValueError(f"{path} is not a WARC file: {exc}") from exc
    return index


class WarcReplayMiddleware:
    """Answer requests from a WARC archive (``NEWSCRAWL_REPLAY``); unknown URLs get a 404."""

    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler = crawler
        self.path = path
        self.index = read_warc(path)
        logger.info("replaying %d archived responses from %s; no network is used", len(self.index), path)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Enabled by ``NEWSCRAWL_REPLAY``."""
        path = crawler.settings.get("NEWSCRAWL_REPLAY")
        if not path:
            raise NotConfigured("NEWSCRAWL_REPLAY is not set")
        return cls(crawler, path)

    def process_request(self, request: Request) -> Response:
        """The archived response for ``request``, or an empty 404."""
        stats = self.crawler.stats
        archived = self.index.get(archive_key(request.url))
        if archived is None:
            stats.inc_value("newscrawl/replay/missing")
            logger.debug("not in the archive: %s", request.url)
            return Response(url=request.url, status=404, request=request, flags=[REPLAYED_FLAG])
        stats.inc_value("newscrawl/replay/hits")
        headers = Headers(archived.header_pairs())
        cls = responsetypes.from_args(headers=headers, url=request.url, body=archived.body)
        return cls(
            url=request.url, status=archived.status, headers=headers, body=archived.body, request=request, flags=[REPLAYED_FLAG]
        )


class WarcRecorderMiddleware:
    """Write every downloaded response to a WARC file (``NEWSCRAWL_WARC_OUT``)."""

    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler = crawler
        self.path = Path(path)
        self._stream: IO[bytes] | None = None
        self._writer: WARCWriter | None = None
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Enabled by ``NEWSCRAWL_WARC_OUT``."""
        path = crawler.settings.get("NEWSCRAWL_WARC_OUT")
        if not path:
            raise NotConfigured("NEWSCRAWL_WARC_OUT is not set")
        return cls(crawler, path)

    def _open(self) -> WARCWriter:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = self.path.open("wb")
            self._writer = WARCWriter(self._stream, gzip=self.path.name.endswith(".gz"))
            logger.info("archiving every response to %s", self.path)
        return self._writer

    def process_response(self, request: Request, response: Response) -> Response:
        """Archive ``response`` (replayed responses are not archived again)."""
        if REPLAYED_FLAG in response.flags:
            return response
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, values in response.headers.items() for v in values]
        request_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, values in request.headers.items() for v in values]
        archived = ArchivedResponse(url=response.url, status=response.status, headers=headers, body=response.body)
        _write_record(self._open(), archived, (request.method, request_headers))
        self.crawler.stats.inc_value("newscrawl/warc/records_written")
        return response

    def close(self) -> None:
        """Flush and close the archive at the end of the crawl."""
        if self._stream is not None:
            self._stream.close()
            logger.info("archive written: %s", self.path)
            self._stream = self._writer = None
