"""The regional site parsers against what is known of their pages besides the fixtures.

Every field of every site's saved pages is checked by tests/test_site_fixtures.py (tests/sites/).
Here: the spider list, edition languages by URL, Pravda against Fundus's expectations, and the
year-less and relative dates of Pravda and 24 Kanal with a crawl long after publication — as served (JSON-LD and meta answer first) and with
the JSON-LD and meta removed, so that the site's own markup layer has to answer.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings
from w3lib.encoding import html_to_unicode

from conftest import FILES
from newscrawl.extract.dates import parse_date
from newscrawl.extract.items import Article
from newscrawl.sites import parser_for_url, site_parsers, site_spiders
from newscrawl.extract.urls import edition_language
from test_regional_pages import token_f1

FETCHED = datetime(2026, 11, 1, tzinfo=timezone.utc)
PRAVDA_URL = "https://www.pravda.com.ua/rus/articles/2026/01/08/8015225/"
TV24_URL = "https://24tv.ua/yak-venediktova-zahishhala-nardepa-vid-slugi-narodu_n1419177"
STRUCTURED_DATA = re.compile(r"<script[^>]*application/ld\+json.*?</script>|<meta\b[^>]*>", re.S | re.I)


def page(name: str) -> str:
    return html_to_unicode(None, (FILES / "regional" / name).read_bytes())[1]


def parse(name: str, url: str, *, markup_only: bool = False) -> Article:
    html = page(name)
    if markup_only:
        html = STRUCTURED_DATA.sub("", html)
    return parser_for_url(url).parse(html, url, fetched_at=FETCHED)


def test_scrapy_lists_a_spider_for_every_declared_site_and_generic() -> None:
    """Scrapy's spider loader (``scrapy list``) finds the spider each site module makes from its declaration."""
    loader = SpiderLoader.from_settings(get_project_settings())
    assert set(loader.list()) == {parser.site.name for parser in site_parsers() if parser.site} | {"generic"}
    assert {loader.load(name) for name in loader.list()} == set(site_spiders())


@pytest.mark.parametrize(
    ("url", "language"),
    [
        ("https://www.pravda.com.ua/news/2020/09/29/7268111/", "uk"),
        ("https://www.pravda.com.ua/rus/news/2020/09/29/7268111/", "ru"),
        ("https://www.pravda.com.ua/eng/news/2020/09/29/7268111/", "en"),
        ("https://www.ukrinform.net/rubric-ato/3103218-x.html", "en"),
        ("https://www.ukrinform.de/rubric-ato/3103218-x.html", "de"),
        ("https://www.unn.com.ua/uk/news/1906059-x", "uk"),
        ("https://24tv.ua/ru/venediktova-zashhishhala-nardepa-ot-slugi-naroda_n1419214", "ru"),
        ("https://vybory.24tv.ua/some-story_n1419214", "uk"),
        ("https://news.liga.net/ua/politics/news/some-story-here", "uk"),
        ("https://news.liga.net/politics/news/some-story-here", "ru"),
        ("https://ukranews.com/ua/news/895991-borodyanka", "uk"),
        ("https://champions.football.ua/news/460799-dinamo-kiev-benfika-nashi-ocenki.html", "ru"),
    ],
)
def test_edition_language_from_host_and_path(url: str, language: str) -> None:
    site = parser_for_url(url).site
    assert site is not None and edition_language(url, site.edition_languages) == language


def test_pravda_site_parser_matches_fundus_expectations() -> None:
    article = parse("pravda_ru_2026-01-08.html", PRAVDA_URL)
    expected = json.loads((FILES / "regional/pravda.expected.json").read_text(encoding="utf-8"))["V1"]
    assert article.parser.startswith("PravdaParser.V1@")
    assert (article.site, article.language, article.source_id) == ("pravda", "ru", "8015225")
    assert article.title == expected["title"]
    assert article.authors == expected["authors"]
    assert article.published_at == parse_date(expected["publishing_date"])
    assert article.tags == expected["topics"]
    expected_body = "\n\n".join(p for s in expected["body"]["sections"] for p in s["headline"] + s["paragraphs"])
    assert article.layers["body"] == "html"
    assert token_f1(article.body, expected_body) >= 0.97


def test_pravda_markup_layer_alone() -> None:
    article = parse("pravda_ru_2026-01-08.html", PRAVDA_URL, markup_only=True)
    assert article.layers["title"] == article.layers["authors"] == article.layers["published_at"] == "html"
    assert article.title.startswith("157 миллионов за бездействие")
    assert article.authors == ["Ярослав Кузишин", "Антон Зелинский", "Карина Гасимова"]
    # "8 января, 17:46" has no year: it resolves to the last 8 January before the crawl, Kyiv time
    assert article.published_at == datetime(2026, 1, 8, 15, 46, tzinfo=timezone.utc)
    assert article.tags == ["суд", "ОАСК", "Павел Вовк"]


def test_tv24_date_author_and_body_without_read_also() -> None:
    for markup_only in (False, True):
        article = parse("24tv_2020-09-21.html", TV24_URL, markup_only=markup_only)
        assert (article.site, article.language, article.source_id) == ("tv24", "uk", "1419177")
        assert article.title == 'Зірвана операція НАБУ: як Венедіктова захищала нардепа від "Слуги народу"'
        # the visible date is "11:00, сьогодні"; <time datetime> gives the day
        assert article.published_at == datetime(2020, 9, 21, 8, 0, tzinfo=timezone.utc)
        assert article.authors == ["Віталій Шабунін"]
        assert article.layers["body"] == "html"
        assert "НАБУ детально задокументувало весь злочин" in article.body
        assert "Читайте також" not in article.body and "Зверніть увагу" not in article.body
    assert article.layers["published_at"] == "html"
