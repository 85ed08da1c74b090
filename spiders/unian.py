"""UNIAN (unian.ua, unian.net, unian.info): news agency in Ukrainian, Russian and English.

Selectors come from ``tests/files/unian/NOTES.md`` (several public parsers, 2019–2023, and real
UNIAN files). Layers: JSON-LD → meta → the markup below → trafilatura for the body.
"""

from __future__ import annotations

import re
from datetime import date

from newscrawl.extract.parser import ArticleParser, ParserProxy
from newscrawl.extract.site import Edition, Site
from newscrawl.sites import site_spider

#: ``/<section>/<slug>-<id>.html`` (2019+), ``/<section>/<id>-<slug>.html`` (2018) and
#: ``/rus/news/<id>-<slug>.html`` (older): the 6–9 digit id names the story within an edition.
UNIAN_ARTICLE_URL = re.compile(
    r"^https?://(?:www\.)?unian\.(?:ua|net|info)/(?:[\w-]+/)*(?:[\w-]+-)?(?P<id>\d{6,9})(?:-[\w-]+)?\.html$"
)

UNIAN_EDITIONS = {
    "uk": Edition("uk", "https://www.unian.ua/", ("https://www.unian.ua/static/rss/all.xml",)),
    "ru": Edition("ru", "https://www.unian.net/", ("https://www.unian.net/rss/index.xml",)),
    "en": Edition("en", "https://www.unian.info/", ("https://www.unian.info/rss",)),
}


UNIAN = Site(
    name="unian",
    description="Crawls the three UNIAN editions: feeds and the all-news listing, or daily archives for backfill.",
    editions=UNIAN_EDITIONS,
    article_url=UNIAN_ARTICLE_URL,
    listing_path="/detail/all_news?page={page}",
    archive_path="/news/archive/{day:%Y%m%d}",
)


class UnianParser(ParserProxy):
    """UNIAN article pages by layout era."""

    site = UNIAN

    class V1(ArticleParser):
        """Layout before 2020: only the time block (``div.item.time``, "02:59 воскресенье, 18 марта
        2018", as on the 2018 homepage) is known; other fields come from JSON-LD/meta/generic."""

        VALID_UNTIL = date(2020, 1, 1)
        published_css = ".item.time"

    class V1_1(V1):
        """Layout of 2020–2023: ``div.article`` with info line, ``div.article-text`` body."""

        VALID_UNTIL = date.max
        title_css = "h1"
        lead_css = "(//div[contains(concat(' ', normalize-space(@class), ' '), ' article__info ')]/following::p)[1]"
        published_css = "div.article__info-item.time"
        author_css = "a.article__author-name"
        body_css = "div.article-text"
        body_exclude = (".read-also-slider", ".nts-video-wrapper", "figure", ".article__tags")
        body_stop_markers = ("Вас також можуть зацікавити новини", "Вас также могут заинтересовать новости")
        figure_css = "figure.photo_block"
        caption_css = "figcaption.subscribe_photo_text"
        tags_css = "div.article__tags a"
        section_css = "(//ol)[1]/li[last()]"


UnianSpider = site_spider(UnianParser, __name__)
