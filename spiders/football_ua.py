"""football.ua (and its tournament subdomains): Russian at the root, Ukrainian under ``/ua/``.

Feeds from the real 2016 page's ``<link rel=alternate>`` (``/rss2.ashx``: all news, ``?c=top``:
main news); the Ukrainian edition's feed follows the same path. Markup read off that page.
"""

from __future__ import annotations

import re

from newscrawl.extract.parser import ArticleParser, ParserProxy
from newscrawl.extract.site import Edition, Site
from newscrawl.sites import site_spider

FOOTBALL_UA_EDITIONS = {
    "ru": Edition("ru", "https://football.ua/", ("https://football.ua/rss2.ashx", "https://football.ua/rss2.ashx?c=top")),
    "uk": Edition("uk", "https://football.ua/ua/", ("https://football.ua/ua/rss2.ashx",)),
}


#: ``/<ua/><section>/<id>-<slug>.html`` on football.ua or a subdomain (champions., 2016., …)
FOOTBALL_UA_ARTICLE_URL = re.compile(r"^https?://(?:[\w-]+\.)?football\.ua/(?:ua/)?[\w-]+/(?P<id>\d{5,8})-[\w-]+\.html$")

FOOTBALL_UA = Site(
    name="football_ua",
    description="football.ua: news feeds and sitemaps.",
    editions=FOOTBALL_UA_EDITIONS,
    article_url=FOOTBALL_UA_ARTICLE_URL,
)


class FootballUaParser(ParserProxy):
    """football.ua article pages."""

    site = FOOTBALL_UA

    class V1(ArticleParser):
        """``article.author-article`` layout (2016): no JSON-LD, dates as "15 августа 2016, 13:43"."""

        title_css = "article.author-article > h1"
        published_css = "article.author-article > p.date"
        body_css = "article.author-article > div.article-text"
        figure_css = "article.author-article > div.article-photo"
        caption_css = "div.photo-text > span.author"


FootballUaSpider = site_spider(FootballUaParser, __name__)
