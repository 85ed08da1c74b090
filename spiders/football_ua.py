"""football.ua (and its tournament subdomains): Russian at the root, Ukrainian under ``/ua/``.

Feeds from the real 2016 page's ``<link rel=alternate>`` (``/rss2.ashx``: all news, ``?c=top``:
main news); the Ukrainian edition's feed follows the same path. Markup read off that page.
"""

from __future__ import annotations

import re

from newscrawl.extract.parser import ArticleParser, ParserProxy
from newscrawl.crawl.spider import Edition, NewsSpider

FOOTBALL_UA_EDITIONS = {
    "ru": Edition("ru", "https://football.ua/", ("https://football.ua/rss2.ashx", "https://football.ua/rss2.ashx?c=top")),
    "uk": Edition("uk", "https://football.ua/ua/", ("https://football.ua/ua/rss2.ashx",)),
}


class FootballUaParser(ParserProxy):
    """football.ua article pages."""

    class V1(ArticleParser):
        """``article.author-article`` layout (2016): no JSON-LD, dates as "15 августа 2016, 13:43"."""

        title_css = "article.author-article > h1"
        published_css = "article.author-article > p.date"
        body_css = "article.author-article > div.article-text"
        figure_css = "article.author-article > div.article-photo"
        caption_css = "div.photo-text > span.author"


class FootballUaSpider(NewsSpider):
    """football.ua: news feeds and sitemaps."""

    name = "football_ua"
    parser = FootballUaParser
    editions = FOOTBALL_UA_EDITIONS
    #: ``/<ua/><section>/<id>-<slug>.html`` on football.ua or a subdomain (champions., 2016., …)
    article_url = re.compile(r"^https?://(?:[\w-]+\.)?football\.ua/(?:ua/)?[\w-]+/(?P<id>\d{5,8})-[\w-]+\.html$")
