"""LIGA.net (news., biz., www. subdomains): Russian at the root until 2022, Ukrainian under ``/ua/``,
English under ``/en/``.

Only the feed (``/news/all/rss.xml``, real 2020 and 2021 captures in ``tests/files/regional``) is
known; no article page was captured, so the parser declares no markup and reads JSON-LD, meta and
the generic body. Slugs carry no number: the slug is the story id.
"""

from __future__ import annotations

import re

from newscrawl.extract.parser import ArticleParser, ParserProxy
from newscrawl.extract.site import Edition, Site
from newscrawl.sites import site_spider

LIGA_EDITIONS = {
    "ru": Edition("ru", "https://www.liga.net/", ("https://www.liga.net/news/all/rss.xml",)),
    "uk": Edition("uk", "https://www.liga.net/ua/", ("https://www.liga.net/ua/news/all/rss.xml",)),
    "en": Edition("en", "https://www.liga.net/en/", ("https://www.liga.net/en/news/all/rss.xml",)),
}


#: ``/<ua|en/><section>/<kind>/<slug>`` — kind: news, articles, opinion, chronicle, photo, video
LIGA_ARTICLE_URL = re.compile(
    r"^https?://(?:(?:www|news|biz|finance|life|tech)\.)?liga\.net/(?:(?:ua|en)/)?[\w-]+/"
    r"(?:news|articles|opinion|chronicle|photo|video|interview)/(?P<id>[\w-]{8,})$"
)

LIGA = Site(
    name="liga",
    description="LIGA.net: the all-news feeds and sitemaps.",
    editions=LIGA_EDITIONS,
    article_url=LIGA_ARTICLE_URL,
)


class LigaParser(ParserProxy):
    """LIGA.net article pages: layers only."""

    site = LIGA

    class V1(ArticleParser):
        """No capture of the markup exists: JSON-LD → meta → ``<h1>`` → generic body."""


LigaSpider = site_spider(LigaParser, __name__)
