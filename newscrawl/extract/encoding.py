"""The text of a page whose bytes do not match its declared charset.

Servers mislabel pages: a windows-1251 page sent as ``text/html; charset=utf-8`` decodes to
replacement characters with the declared charset, and a UTF-8 page whose ``<meta>`` says
``charset=iso-8859-1`` decodes without errors but to mojibake ("ForstÃ¦rket"). :func:`decoded_text`
reads bytes that are valid UTF-8 with non-ASCII characters as UTF-8 whatever the page declares:
text in another charset is practically never valid UTF-8 (a windows-1251 or iso-8859-1 letter
byte above 0x7F would have to be followed by just the right continuation bytes). Other pages keep
the declared charset (Scrapy's choice from the HTTP header, BOM and ``<meta>``, or a saved page's
header) when the bytes fit it, else the BOM's, the ``<meta>`` declaration, UTF-8 and a detected
charset, in that order. Every entry point (crawl, replay, ``parse``, fixtures) decodes pages with it.
"""

from __future__ import annotations

from collections.abc import Iterator

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, read_bom, resolve_encoding

#: a charset "fits" the bytes when at most one byte in this many fails to decode
BAD_BYTE_RATIO = 1000
#: bytes the charset detector reads
_DETECT_BYTES = 200_000


def _candidates(body: bytes, declared: str | None) -> Iterator[str]:
    """Encodings to try, best first: the declared one, the BOM's, the page's ``<meta>``, UTF-8, a detected one."""
    if declared:
        yield declared
    bom_encoding, _ = read_bom(body)
    if bom_encoding:
        yield bom_encoding
    in_page = html_body_declared_encoding(body)
    if in_page:
        yield in_page
    yield "utf-8"
    best = from_bytes(body[:_DETECT_BYTES]).best()
    if best:
        yield best.encoding


def decoded_text(body: bytes, declared: str | None = None) -> str:
    """The page's text: UTF-8 for valid UTF-8 bytes with non-ASCII characters, else in the first
    candidate charset its bytes fit; else in the one with fewest errors.

    ``declared``: the charset the page came with (Scrapy's ``response.encoding``), if any.
    """
    if not body.isascii():
        try:
            return body.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            pass
    limit = len(body) // BAD_BYTE_RATIO
    tried: dict[str, str] = {}
    for candidate in _candidates(body, declared):
        encoding = resolve_encoding(candidate)
        if not encoding or encoding in tried:
            continue
        text = body.decode(encoding, errors="replace").removeprefix("\ufeff")
        if text.count("\ufffd") <= limit:
            return text
        tried[encoding] = text
    return min(tried.values(), key=lambda text: text.count("\ufffd"), default="")
