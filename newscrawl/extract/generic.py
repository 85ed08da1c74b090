"""The last extraction layer: a site-agnostic body extractor (trafilatura)."""

from __future__ import annotations

import logging

import trafilatura

from newscrawl.extract.text import join_paragraphs

logger = logging.getLogger(__name__)
# trafilatura logs ERROR for every page without a main text (feeds, block pages); for us that is
# an expected answer, reported by the parser as NotAnArticle and counted, not a log-worthy error.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


def generic_body(html: str, url: str | None = None) -> str | None:
    """The main text of an article page, paragraphs separated by blank lines; None if none found."""
    try:
        # with metadata, trafilatura also finds the title and byline and keeps them out of the text
        document = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
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
