"""Ukrainian News (ukranews.com): Russian at the root, Ukrainian under ``/ua/``, English under ``/en/``.

The real 2020 feed in ``tests/files/regional`` shows the article URLs; feed addresses follow
``/rss/news_all_<lang>.xml`` (the Ukrainian one seen in public code, the others by pattern).
No article page was captured: the parser reads JSON-LD, meta and the generic body.
"""

from __future__ import annotations

import re

from newscrawl.extract.parser import ArticleParser, ParserProxy
from newscrawl.extract.site import Edition, Site
from newscrawl.sites import site_spider

UKRANEWS_EDITIONS = {
    "ru": Edition("ru", "https://ukranews.com/", ("https://ukranews.com/rss/news_all_ru.xml",)),
    "uk": Edition("uk", "https://ukranews.com/ua/", ("https://ukranews.com/rss/news_all_uk.xml",)),
    "en": Edition("en", "https://ukranews.com/en/", ("https://ukranews.com/rss/news_all_en.xml",)),
}


UKRANEWS_ARTICLE_URL = re.compile(
    r"^https?://(?:www\.)?ukranews\.com/(?:(?:ua|en)/)?(?:news|article|interview|blogs)/(?P<id>\d{5,8})-[\w-]+$"
)

UKRANEWS = Site(
    name="ukranews",
    description="Ukrainian News: feeds and sitemaps.",
    editions=UKRANEWS_EDITIONS,
    article_url=UKRANEWS_ARTICLE_URL,
)


class UkranewsParser(ParserProxy):
    """Ukrainian News article pages: layers only."""

    site = UKRANEWS

    class V1(ArticleParser):
        """No capture of the markup exists: JSON-LD → meta → ``<h1>`` → generic body."""


UkranewsSpider = site_spider(UkranewsParser, __name__)
