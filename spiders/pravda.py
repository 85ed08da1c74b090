"""Ukrainska Pravda (pravda.com.ua): Ukrainian at the root, Russian under ``/rus/``, English under ``/eng/``.

Feeds (``rss/view_news/`` of each edition) and the daily archive (``archives/date_DDMMYYYY/``) are
the addresses public scrapers of the site use; the markup selectors are read off the real 2026
page in ``tests/files/regional``. Sister sites on subdomains (life., blogs.) and epravda.com.ua
have layouts of their own and are not crawled by this spider.
"""

from __future__ import annotations

import re

from newscrawl.extract.parser import ArticleParser, ParserProxy
from newscrawl.extract.site import Edition, Site
from newscrawl.sites import site_spider

PRAVDA_EDITIONS = {
    "uk": Edition("uk", "https://www.pravda.com.ua/", ("https://www.pravda.com.ua/rss/view_news/",)),
    "ru": Edition("ru", "https://www.pravda.com.ua/rus/", ("https://www.pravda.com.ua/rus/rss/view_news/",)),
    "en": Edition("en", "https://www.pravda.com.ua/eng/", ("https://www.pravda.com.ua/eng/rss/view_news/",)),
}


#: ``/<rus|eng/><kind>/<yyyy>/<mm>/<dd>/<id>/`` — kind: news, articles, columns, interview…
PRAVDA_ARTICLE_URL = re.compile(
    r"^https?://(?:www\.)?pravda\.com\.ua/(?:(?:rus|eng)/)?[a-z_-]+/(?:19|20)\d\d/\d\d/\d\d/(?P<id>\d{5,8})/?$"
)

PRAVDA = Site(
    name="pravda",
    description="Ukrainska Pravda: feeds, sitemaps, and the daily archive of each edition for backfill.",
    editions=PRAVDA_EDITIONS,
    article_url=PRAVDA_ARTICLE_URL,
    archive_path="archives/date_{day:%d%m%Y}/",
)


class PravdaParser(ParserProxy):
    """Ukrainska Pravda article pages."""

    site = PRAVDA

    class V1(ArticleParser):
        """The ``post_article`` layout (2026 capture)."""

        title_css = "h1.post_article_title"
        author_css = ".post_article_author .post_author_name"
        published_css = ".post_article_author .post_author_date"
        body_css = "div.post_article_text"
        tags_css = "div.post_news_tags a"


PravdaSpider = site_spider(PravdaParser, __name__)
