"""Ukrinform (state news agency): one domain per language — .ua, .ru, .net (English) and five more.

The feed address (``/rss/block-lastnews``) and the domains come from the real 2020 page in
``tests/files/regional`` (its ``<link rel=alternate>`` tags; the site labels the Chinese edition,
ukrinform.org, ``ch``). The site has no day archive known to us: backfill reads its sitemaps.
"""

from __future__ import annotations

import re

from newscrawl.extract.parser import ArticleParser, ParserProxy
from newscrawl.extract.site import Edition, Site
from newscrawl.sites import site_spider

_DOMAINS = {"uk": "ua", "ru": "ru", "en": "net", "es": "es", "de": "de", "zh": "org", "fr": "fr", "ja": "jp", "pl": "pl"}
UKRINFORM_EDITIONS = {
    language: Edition(language, f"https://www.ukrinform.{tld}/", (f"https://www.ukrinform.{tld}/rss/block-lastnews",))
    for language, tld in _DOMAINS.items()
}


UKRINFORM_ARTICLE_URL = re.compile(
    rf"^https?://(?:www\.)?ukrinform\.(?:{'|'.join(_DOMAINS.values())})/rubric-[\w-]+/(?P<id>\d{{6,9}})-[\w-]+\.html$"
)

UKRINFORM = Site(
    name="ukrinform",
    description="Ukrinform in all its languages: latest-news feeds and sitemaps.",
    editions=UKRINFORM_EDITIONS,
    article_url=UKRINFORM_ARTICLE_URL,
)


class UkrinformParser(ParserProxy):
    """Ukrinform article pages."""

    site = UKRINFORM

    class V1(ArticleParser):
        """``article.news`` layout (2020 capture): ``<time datetime>`` in the meta block."""

        title_css = "h1.newsTitle"
        published_css = ".newsMetaBlock .newsDate time::attr(datetime)"
        body_css = "article.news div.newsText"
        tags_css = "article.news aside.tags a.tag"
        figure_css = "article.news > figure"


UkrinformSpider = site_spider(UkrinformParser, __name__)
