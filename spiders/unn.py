"""UNN — Ukrainian National News (unn.com.ua): editions under ``/uk/``, ``/ru/`` and ``/en/``.

Feeds ``/rss/news_<lang>.xml`` are the addresses public feed readers use (uk and ru seen; en by
the same pattern). Markup read off the real 2020 page in ``tests/files/regional``. Backfill reads
the sitemaps.
"""

from __future__ import annotations

import re

from newscrawl.extract.parser import ArticleParser, ParserProxy
from newscrawl.extract.site import Edition, Site
from newscrawl.sites import site_spider

UNN_EDITIONS = {
    lang: Edition(lang, f"https://www.unn.com.ua/{lang}/", (f"https://www.unn.com.ua/rss/news_{lang}.xml",))
    for lang in ("uk", "ru", "en")
}


#: ``/<lang>/<news|exclusive|publication>/<id>-<slug>``
UNN_ARTICLE_URL = re.compile(
    r"^https?://(?:www\.)?unn\.com\.ua/(?:uk|ru|en)/(?:news|exclusive|publication)/(?P<id>\d{6,9})-[\w-]+$"
)

UNN = Site(
    name="unn",
    description="UNN: the news feed of each edition and the sitemaps.",
    editions=UNN_EDITIONS,
    article_url=UNN_ARTICLE_URL,
)


class UnnParser(ParserProxy):
    """UNN article pages."""

    site = UNN

    class V1(ArticleParser):
        """``b-news-full`` layout (2020): date and author share one line under the text."""

        title_css = "div.b-news-full h1.title"
        published_css = "div.b-page-content > div.b-news-feed-date-bottom span.datelink"
        author_css = "div.b-news-feed-date-bottom [itemprop=author] [itemprop=name]"
        body_css = "div.b-news-full div.b-news-text"
        tags_css = "div.b-news-full div.b-news-tags a"


UnnSpider = site_spider(UnnParser, __name__)
