"""The text of a page whose bytes do not match its declared charset.

Servers mislabel pages: a windows-1251 page sent as ``text/html; charset=utf-8`` decodes to
replacement characters with the declared charset. :func:`decoded_text` keeps Scrapy's choice
(HTTP header, BOM, ``<meta>``) when the bytes fit it, else tries the ``<meta>`` declaration, UTF-8
and a detected charset, in that order.
"""

from __future__ import annotations

from collections.abc import Iterator

from charset_normalizer import from_bytes
from scrapy.http import TextResponse
from w3lib.encoding import html_body_declared_encoding, resolve_encoding

#: a charset "fits" the bytes when at most one byte in this many fails to decode
BAD_BYTE_RATIO = 1000
#: bytes the charset detector reads
_DETECT_BYTES = 200_000


def _candidates(response: TextResponse) -> Iterator[str]:
    """Encodings to try, best first: Scrapy's, the page's ``<meta>``, UTF-8, then a detected one."""
    yield response.encoding
    declared = html_body_declared_encoding(response.body)
    if declared:
        yield declared
    yield "utf-8"
    best = from_bytes(response.body[:_DETECT_BYTES]).best()
    if best:
        yield best.encoding


def decoded_text(response: TextResponse) -> str:
    """The page's text in the first candidate charset its bytes fit; else the one with fewest errors."""
    body = response.body
    limit = len(body) // BAD_BYTE_RATIO
    tried: dict[str, str] = {}
    for candidate in _candidates(response):
        encoding = resolve_encoding(candidate)
        if not encoding or encoding in tried:
            continue
        text = body.decode(encoding, errors="replace")
        if text.count("\ufffd") <= limit:
            return text
        tried[encoding] = text
    return min(tried.values(), key=lambda text: text.count("\ufffd"), default=response.text)
