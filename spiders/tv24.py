"""24 Kanal (24tv.ua and its topic subdomains): Ukrainian at the root, Russian under ``/ru/``.

Feed ``/rss/all.xml`` is the address public feed readers use (the Russian one by the same
pattern). Markup read off the real 2020 page in ``tests/files/regional``: its visible time says
"11:00, сьогодні", so the date comes from ``<time datetime>``.
"""

from __future__ import annotations

import re

from newscrawl.extract.parser import ArticleParser, ParserProxy
from newscrawl.extract.site import Edition, Site
from newscrawl.sites import site_spider

TV24_EDITIONS = {
    "uk": Edition("uk", "https://24tv.ua/", ("https://24tv.ua/rss/all.xml",)),
    "ru": Edition("ru", "https://24tv.ua/ru/", ("https://24tv.ua/ru/rss/all.xml",)),
}


#: ``/<ru/><slug>_n<id>`` on 24tv.ua or a topic subdomain (vybory., health., …)
TV24_ARTICLE_URL = re.compile(r"^https?://(?:[\w-]+\.)?24tv\.ua/(?:ru/)?[\w-]+_n(?P<id>\d{6,9})/?$")

TV24 = Site(
    name="tv24",
    description="24 Kanal: the all-news feeds and sitemaps.",
    editions=TV24_EDITIONS,
    article_url=TV24_ARTICLE_URL,
)


class Tv24Parser(ParserProxy):
    """24 Kanal article pages."""

    site = TV24

    class V1(ArticleParser):
        """``article_text`` layout (2020)."""

        title_css = "h1#newsName"
        published_css = "div.top-news-info > time::attr(datetime)"
        author_css = "div.news-author span.authors"
        body_css = "div#newsSummary"
        body_exclude = ("p.read-also",)
        tags_css = "footer div.tags:not(.news-author) a"


Tv24Spider = site_spider(Tv24Parser, __name__)
