"""The JSON-LD and meta layers (and the generic body) on real pages of Ukrainian news sites.

Pages and known answers: tests/files/regional/README.md (captures from Fundus, htmldate and
trafilatura evaluation sets). These tests run the generic parser on them (the site parsers: test_site_parsers.py).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest
from w3lib.encoding import html_to_unicode

from conftest import FILES
from newscrawl.extract.dates import parse_date
from newscrawl.extract.items import Article
from newscrawl.extract.parser import GenericParser
from newscrawl.sites import parser_for_url

FETCHED = datetime(2026, 11, 1, tzinfo=timezone.utc)
KYIV = timezone(timedelta(hours=2))


def parse(name: str, url: str) -> Article:
    raw = (FILES / "regional" / name).read_bytes()
    return GenericParser.parse(html_to_unicode(None, raw)[1], url, fetched_at=FETCHED)


def token_f1(got: str, expected: str) -> float:
    """Bag-of-words F1 between two texts (the usual body-extraction score)."""
    a, b = Counter(re.findall(r"\w+", got.lower())), Counter(re.findall(r"\w+", expected.lower()))
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


@pytest.fixture(scope="module")
def pravda() -> Article:
    return parse("pravda_ru_2026-01-08.html", "https://www.pravda.com.ua/rus/articles/2026/01/08/8015225/")


def test_pravda_against_fundus_expectations(pravda: Article) -> None:
    expected = json.loads((FILES / "regional/pravda.expected.json").read_text(encoding="utf-8"))["V1"]
    assert pravda.title == expected["title"]
    assert pravda.layers["title"] == "jsonld"
    assert set(pravda.authors) == set(expected["authors"])
    assert pravda.published_at == parse_date(expected["publishing_date"])
    assert pravda.published_source == "jsonld"
    assert pravda.published_raw == "2026-01-08T17:46:00+02:00"
    assert pravda.tags == expected["topics"]
    assert pravda.section == "Публикации"
    assert pravda.language == "ru"
    assert pravda.translations == {"uk": "https://www.pravda.com.ua/articles/2026/01/08/8015225/"}
    expected_body = "\n\n".join(
        p for section in expected["body"]["sections"] for p in section["headline"] + section["paragraphs"]
    )
    assert token_f1(pravda.body, expected_body) >= 0.9
    assert pravda.layers["body"] == "generic"
    assert pravda.images and pravda.images[0].url.startswith("https://uimg.pravda.com.ua/")


@pytest.mark.parametrize(
    ("name", "url", "day", "title_start", "author"),
    [
        ("24tv_2020-09-21.html", "https://24tv.ua/yak-venediktova-zahishhala-nardepa-vid-slugi-narodu_n1419177",
         date(2020, 9, 21), "Зірвана операція НАБУ", "Віталій Шабунін"),
        ("ukrinform_ru_2020-09-20.html",
         "https://www.ukrinform.ru/rubric-kyiv/3103218-policia-napravila-delo-minera-stolicnogo-metro-v-sud.html",
         date(2020, 9, 20), 'Полиция направила дело "минера" столичного метро в суд', "Ukrinform"),
        ("unn_ru_2020-12-03.html",
         "https://www.unn.com.ua/ru/news/1906059-parlament-moldovi-z-podachi-dodona-obmezhiv-povnovazhennya-sandu-sche-do-yiyi-inavguratsiyi",
         date(2020, 12, 3), 'Парламент Молдовы, "с подачи Додона"', "Алексей Супрун"),
    ],
)
def test_jsonld_layer_on_real_pages(name: str, url: str, day: date, title_start: str, author: str) -> None:
    article = parse(name, url)
    assert article.layers["title"] == "jsonld"
    assert article.title.startswith(title_start)
    assert "&quot;" not in article.title
    assert article.published_source == "jsonld"
    assert article.published_at.astimezone(KYIV).date() == day
    assert article.authors == [author]
    assert article.body and article.word_count > 50


def test_24tv_title_loses_site_suffix() -> None:
    article = parse("24tv_2020-09-21.html", "https://24tv.ua/yak-venediktova-zahishhala-nardepa-vid-slugi-narodu_n1419177")
    assert not article.title.endswith("24 Канал")


def test_ukrinform_edition_home_pages_are_not_translations() -> None:
    article = parse(
        "ukrinform_ru_2020-09-20.html",
        "https://www.ukrinform.ru/rubric-kyiv/3103218-policia-napravila-delo-minera-stolicnogo-metro-v-sud.html",
    )
    assert article.translations == {}
    assert article.canonical_url == (
        "https://www.ukrinform.ru/rubric-kyiv/3103218-policia-napravila-delo-minera-stolicnogo-metro-v-sud.html"
    )


def test_unn_naive_jsonld_date_is_kyiv_time() -> None:
    article = parse(
        "unn_ru_2020-12-03.html",
        "https://www.unn.com.ua/ru/news/1906059-parlament-moldovi-z-podachi-dodona-obmezhiv-povnovazhennya-sandu-sche-do-yiyi-inavguratsiyi",
    )
    assert article.published_raw == "2020-12-03T18:47"
    assert article.published_at == datetime(2020, 12, 3, 16, 47, tzinfo=timezone.utc)
    assert article.modified_at == datetime(2020, 12, 3, 16, 48, tzinfo=timezone.utc)
    assert "facebook.com" not in " ".join(article.authors)


def test_football_ua_meta_layer_and_generic_body() -> None:
    """No JSON-LD on this page: title from og:title, body from the generic extractor."""
    article = parse("football_ua_ru_2016-08-15.html", "https://football.ua/germany/311510-podolski-zavershil-kareru-v-sbornojj.html")
    assert article.title == "Подольски завершил карьеру в сборной"
    assert article.layers["title"] == "meta"
    assert article.layers["body"] == "generic"
    for wanted in (
        "летний Лукаш Подольски – третий по количеству матчей за сборную",
        "Экс-игрок Арсенала и Баварии попал в заявку",
        "Решение далось мне очень тяжело. Сборная всегда была",
    ):
        assert wanted in article.body
    for unwanted in ("© 2006-2019", "Политика в сфере конфиденциальности и персональных данных"):
        assert unwanted not in article.body


def test_parser_for_url_picks_site_or_generic() -> None:
    from spiders.unian import UnianParser

    assert parser_for_url("https://www.unian.info/world/x-12149817.html") is UnianParser
    assert parser_for_url("https://unian.ua/x-1.html") is UnianParser
    assert parser_for_url("https://24tv.ua/x_n1419177").__name__ == "Tv24Parser"
    assert parser_for_url("https://news.example.org/x-1.html") is GenericParser
