"""The last extraction layer: a site-agnostic body extractor (trafilatura)."""

from __future__ import annotations

import logging
import re

import trafilatura
from lxml.html import HtmlElement

from newscrawl.extract.text import join_paragraphs

logger = logging.getLogger(__name__)
# trafilatura logs ERROR for every page without a main text (feeds, block pages); for us that is
# an expected answer, reported by the parser as NotAnArticle and counted, not a log-worthy error.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


#: the start of an HTML document, looked for in a page's first characters
_HTML_START = re.compile(r"<(?:!doctype|html|head|body|meta|title)\b", re.IGNORECASE)
_HTML_START_CHARS = 4096


def looks_like_html(text: str, tree: HtmlElement) -> bool:
    """Whether a page is HTML at all (trafilatura checks a string, not a tree): its first
    characters open a document, or it parsed into more than one top element; binary data served
    as ``text/html`` does neither. Pages that start with a server's warning pass."""
    return bool(_HTML_START.search(text[:_HTML_START_CHARS])) or len(tree) >= 2


def generic_body(page: str | HtmlElement, url: str | None = None) -> str | None:
    """The main text of an article ``page`` (its HTML, or its parsed tree: trafilatura works on a
    copy), paragraphs separated by blank lines; None if none found.

    trafilatura's metadata is not asked for: the parser reads its own, and keeps the headline and
    the byline out of the text itself."""
    try:
        document = trafilatura.bare_extraction(
            page,
            url=url,
            with_metadata=False,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
        )
    except Exception:  # trafilatura raises assorted errors on hostile markup
        logger.warning("generic extractor failed on %s", url, exc_info=True)
        return None
    text = getattr(document, "text", None) if document is not None else None
    return join_paragraphs(text.split("\n")) if text else None
