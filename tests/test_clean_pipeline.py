"""The clean pipeline: text cleaned, invalid items dropped with a reason Scrapy counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest
from scrapy.utils.test import get_crawler

from conftest import read_page
from newscrawl.extract.items import Article
from newscrawl.extract.language import guess_language
from pipelines.clean import InvalidDate, LanguageMismatch, MissingRequiredField, CleanPipeline
from spiders.unian import UnianParser
from test_unian_parser import EN_URL, FETCHED, SEED_PAGE


@pytest.fixture
def seed() -> Article:
    return UnianParser.parse(read_page(SEED_PAGE), EN_URL, fetched_at=FETCHED)


@pytest.fixture
def pipeline() -> CleanPipeline:
    return CleanPipeline.from_crawler(get_crawler(settings_dict={}))


def test_a_good_article_passes_unchanged(seed: Article, pipeline: CleanPipeline) -> None:
    before = replace(seed)
    assert pipeline.process_item(seed) is seed
    assert seed == before


def test_text_is_normalized(seed: Article, pipeline: CleanPipeline) -> None:
    seed.title = "  Putin\u00a0absorbs \u200bBelarusian   factories\n"
    seed.authors = [" Marta  Gichko ", "Marta Gichko", ""]
    seed.body = "First  paragraph.\n\n\n\n  Second\u00a0one. "
    pipeline.process_item(seed)
    assert seed.title == "Putin absorbs Belarusian factories"
    assert seed.authors == ["Marta Gichko"]
    assert seed.body == "First paragraph.\n\nSecond one."
    assert seed.word_count == 4


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"title": ""}, MissingRequiredField),
        ({"published_at": None}, MissingRequiredField),
        ({"body": None, "lead": None}, MissingRequiredField),
        ({"published_at": datetime(2023, 2, 18, 6, 24)}, InvalidDate),
        ({"language": "uk"}, LanguageMismatch),
    ],
)
def test_invalid_items_are_dropped_with_their_reason(seed: Article, pipeline: CleanPipeline, change: dict, reason: type) -> None:
    with pytest.raises(reason):
        pipeline.process_item(replace(seed, **change))


def test_lead_alone_is_enough(seed: Article, pipeline: CleanPipeline) -> None:
    item = replace(seed, body=None)
    assert pipeline.process_item(item).lead


def test_dates_are_stored_in_utc(seed: Article, pipeline: CleanPipeline) -> None:
    from zoneinfo import ZoneInfo

    item = replace(seed, published_at=datetime(2023, 2, 18, 6, 24, tzinfo=ZoneInfo("Europe/Kyiv")))
    pipeline.process_item(item)
    assert item.published_at == datetime(2023, 2, 18, 4, 24, tzinfo=timezone.utc)
    assert item.published_at.tzinfo is timezone.utc


def test_language_guess_on_real_text() -> None:
    import json
    import re

    uk_descriptions = re.findall(r"<description>\s*<!\[CDATA\[(.*?)\]\]>", read_page("unian/rss_unian_ua_2020-09-28.xml"))
    assert guess_language(" ".join(uk_descriptions)) == "uk"
    pravda = json.loads(read_page("regional/pravda.expected.json"))["V1"]["body"]["sections"][0]["paragraphs"]
    assert guess_language(" ".join(pravda)) == "ru"
    assert guess_language("Putin absorbs Belarusian factories to strengthen his army") == "en"
    assert guess_language("Так") is None
