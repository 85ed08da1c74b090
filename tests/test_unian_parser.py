"""The UNIAN parser on the reconstructed seed article (text real, markup from NOTES.md)."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest

from conftest import FILES, SITES, read_page
from newscrawl.extract.text import clean_line
from newscrawl.extract.items import DATE_SOURCES, LAYERS, Article
from spiders.unian import UNIAN_ARTICLE_URL, UnianParser

SEED_PAGE = SITES / "unian/en-putin-belarus_2023-02-18.reconstructed.html.gz"
EN_URL = "https://www.unian.info/world/putin-absorbs-belarusian-factories-to-strengthen-his-army-isw-12149817.html"
UK_URL = "https://www.unian.ua/world/putin-poglinaye-biloruski-zavodi-dlya-posilennya-svoyeji-armiji-isw-12149817.html"
FETCHED = datetime(2023, 2, 18, 7, 0, tzinfo=timezone.utc)


def seed_expectations() -> dict[str, object]:
    """Expected fields, read from the real article text (NOTES.md says what a correct extraction is)."""
    blocks = [b.strip() for b in (FILES / "unian/article_en_seed.txt").read_text(encoding="utf-8").split("\n\n")]
    body: list[str] = []
    for block in blocks[4:]:
        if re.match(r"1\. ", block) or block.startswith("Enter comments"):
            break
        if block:
            body.append(clean_line(block))
    return {
        "title": blocks[0],
        "lead": blocks[2],
        "caption_line": blocks[3].split("\n")[0],
        "body": "\n\n".join(body),
    }


@pytest.fixture(scope="module")
def seed() -> Article:
    return UnianParser.parse(read_page(SEED_PAGE), EN_URL, fetched_at=FETCHED)


def test_reconstructed_page_says_so() -> None:
    head = read_page(SEED_PAGE)[:400]
    assert "RECONSTRUCTED PAGE" in head and "NOT A CAPTURE" in head


def test_identity_fields(seed: Article) -> None:
    assert seed.site == "unian"
    assert seed.language == "en"
    assert seed.source_id == "12149817"
    assert seed.url == EN_URL
    assert seed.canonical_url == EN_URL
    assert seed.parser.startswith("UnianParser.V1_1@newscrawl-")


def test_title_lead_authors(seed: Article) -> None:
    expected = seed_expectations()
    assert seed.title == expected["title"]
    assert seed.lead == expected["lead"]
    assert seed.authors == ["Marta Gichko"]


def test_published_is_kyiv_time_in_utc(seed: Article) -> None:
    assert seed.published_at == datetime(2023, 2, 18, 4, 24, tzinfo=timezone.utc)
    assert seed.published_raw == "06:24, 18.02.23"
    assert seed.published_source == "html"
    assert seed.modified_at is None


def test_body_is_the_article_text_only(seed: Article) -> None:
    expected = seed_expectations()["body"]
    assert seed.body == expected
    assert "How Lukashenka plays along with Putin" in seed.body.split("\n\n")
    for noise in ("Enter comments here", "paper tigers", "placeholder", "Read also", "video player", "1340"):
        assert noise not in seed.body, noise
    assert seed.word_count == len(re.findall(r"\w+", expected))


def test_image_caption_and_credit(seed: Article) -> None:
    caption, _, credit = seed_expectations()["caption_line"].rpartition(" / ")
    assert len(seed.images) == 1
    image = seed.images[0]
    assert image.url == "https://images.unian.net/photos/2023_02/1676694240-1234.jpg"
    assert (image.caption, image.credit) == (caption, credit) == (image.caption, "REUTERS")


def test_section_translations_and_layers(seed: Article) -> None:
    assert seed.section == "World"
    assert seed.tags == []
    assert seed.translations == {"uk": UK_URL}
    assert seed.layers["body"] == "html"
    assert seed.layers["title"] == "html"  # the page has no JSON-LD or og:title
    assert {layer for field, layer in seed.layers.items() if field != "published_rejected"} <= set(LAYERS)
    assert seed.layers["published_rejected"] == 0  # one date on the page, and nothing against it
    assert seed.published_source in DATE_SOURCES


def test_version_chosen_by_crawl_date() -> None:
    assert UnianParser.for_date(date(2018, 3, 18)) is UnianParser.V1
    assert UnianParser.for_date(date(2023, 2, 18)) is UnianParser.V1_1


def test_old_era_time_format_is_read_by_v1() -> None:
    """The 2018 layout printed "02:59 воскресенье, 18 марта 2018" in ``.item.time`` (real homepage)."""
    html = read_page(SITES / "unian/ru-homepage_2018-03-18.excerpt.html.gz")
    parser = UnianParser.V1(html, "https://www.unian.net/", fetched_at=datetime(2018, 3, 18, 1, 0, tzinfo=timezone.utc))
    published, raw = parser.published()
    assert raw == "02:59 воскресенье, 18 марта 2018"
    assert published == datetime(2018, 3, 18, 0, 59, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("url", "story_id"),
    [
        ("https://www.unian.ua/economics/finance/bank-angliji-dev-yatiy-raz-pospil-pidvishchiv-procentnu-stavku-12079614.html", "12079614"),
        (UK_URL, "12149817"),
        ("https://www.unian.net/world/10046465-eks-zamglavy-fbr-peredal-specprokuroru-sekretnuyu-informaciyu-o-svyazyah-trampa-s-rossiey-smi.html", "10046465"),
        ("http://www.unian.net/rus/news/495300-prezident-podpisal-zakon.html", "495300"),
        ("https://www.unian.ua/pogoda/news/pogoda-na-zavtra-doshchi-ta-poholodannya-sinoptik-11162597.html", "11162597"),
    ],
)
def test_article_urls(url: str, story_id: str) -> None:
    match = UNIAN_ARTICLE_URL.search(url)
    assert match and match.group("id") == story_id


@pytest.mark.parametrize(
    "url",
    [
        "https://www.unian.ua/detail/all_news?page=2",
        "https://www.unian.ua/news/archive/20230218",
        "https://www.unian.ua/tag/viyna-v-ukrajini",
        "https://www.unian.net/rss/index.xml",
        "https://www.example.com/world/story-12149817.html",
    ],
)
def test_non_article_urls(url: str) -> None:
    assert not UNIAN_ARTICLE_URL.search(url)
