"""Property tests: the parsers and the clean pipeline on mutated real pages and random strings,
and :func:`newscrawl.extract.dates.parse_date` on random text.

Only :class:`~newscrawl.extract.parser.NotAnArticle` may escape a parser; a parsed article either passes
the clean pipeline with plain text and aware dates or is dropped with an
:class:`~pipelines.clean.InvalidArticle` reason. The mutations live in tests/mutations.py
(shared with bench/fuzz.py, the 10 000-case run). Each fault fuzzing found has a test at the end:
JSON-LD nested past the recursion limit, control characters and braces in attribute names, an
unreadable hreflang, image and canonical URLs, tag-like text w3lib leaves, markup cut off in a meta description.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutations import FETCHED, BrokenInvariant, MUTATORS, PARSERS, SOURCES, check, mutate, random_document
from newscrawl.extract.dates import DEFAULT_FLOOR, MAX_FUTURE, parse_date
from newscrawl.extract.text import plain_text
from newscrawl.extract.items import Article
from newscrawl.extract.parser import GenericParser
from pipelines import clean
from pipelines.clean import CleanPipeline

PIPELINE = CleanPipeline()
DROP_REASONS = {name for name, obj in vars(clean).items() if isinstance(obj, type) and issubclass(obj, clean.InvalidArticle)}
OUTCOMES = {"parsed", "not_article"} | {f"dropped/{name}" for name in DROP_REASONS}
GENERIC_URL = "https://news.example.org/world/some-long-story-title-1234567.html"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def nested_jsonld_page(depth: int) -> str:
    """An article page whose JSON-LD block opens ``depth`` arrays."""
    return ('<html><head><script type="application/ld+json">' + "[" * depth + "</script></head><body>"
            "<h1>A headline of a story</h1>" + "<p>Some words of the story body here.</p>" * 20 + "</body></html>")


def control_attribute_page() -> str:
    """An article page with a vertical tab inside a ``<meta>`` attribute name."""
    return ('<html><head><meta prop\x0berty="og:title" content="A headline"></head><body>'
            "<h1>A headline of a story</h1>" + "<p>Some words of the story body here.</p>" * 20 + "</body></html>")


def page_with_head(head: str) -> str:
    """An article page with ``head`` in its ``<head>``."""
    return (f"<html><head>{head}</head><body><h1>A headline of a story</h1>"
            + "<p>Some words of the story body here.</p>" * 20 + "</body></html>")


def outcome_of(html: str, url: str, parser_name: str) -> str:
    """:func:`mutations.check` with the given parser."""
    return check(html, url, PARSERS[parser_name](url), PIPELINE)


@FUZZ
@given(
    source=st.sampled_from(SOURCES),
    names=st.lists(st.sampled_from(sorted(MUTATORS)), min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
    parser_name=st.sampled_from(sorted(PARSERS)),
)
def test_mutated_real_pages(source: object, names: list[str], seed: int, parser_name: str) -> None:
    html = mutate(source.html, names, random.Random(seed))  # type: ignore[attr-defined]
    assert outcome_of(html, source.url, parser_name) in OUTCOMES  # type: ignore[attr-defined]


@FUZZ
@given(text=st.text(max_size=3000), parser_name=st.sampled_from(sorted(PARSERS)))
def test_random_strings(text: str, parser_name: str) -> None:
    assert outcome_of(text, GENERIC_URL, parser_name) in OUTCOMES


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), parser_name=st.sampled_from(sorted(PARSERS)))
def test_random_documents_in_article_markup(seed: int, parser_name: str) -> None:
    assert outcome_of(random_document(random.Random(seed)), GENERIC_URL, parser_name) in OUTCOMES


def test_unmutated_pages_parse_and_pass_validation() -> None:
    """The fuzz starts from pages that do parse (else every mutation would be NotAnArticle)."""
    outcomes = {source.name: check(source.html, source.url, PARSERS["site"](source.url), PIPELINE) for source in SOURCES}
    assert outcomes == {**{source.name: "parsed" for source in SOURCES},
                        "unian/all_news_unian_info_2023-02-18.reconstructed.html": "not_article"}


class LeakyParser(GenericParser):
    """A parser that returns its input as the body, unparsed (for checking the check)."""

    @classmethod
    def parse(cls, html: str, url: str, *, fetched_at: datetime | None = None, hint: object = None) -> Article:
        return Article(url=url, site="example.org", title="A headline", body=html, published_at=FETCHED)


class NoCleaning(CleanPipeline):
    """The clean pipeline without its plain-text cleaning."""

    def _clean(self, adapter: object) -> None:
        pass


@pytest.mark.parametrize("body", ["Text <b>bold</b>", "<script>x()</script>", "a <!-- b --> c", "<br/>"])
def test_markup_in_a_stored_body_is_caught(body: str) -> None:
    """The plain-text check can fail: markup left in a stored body is reported."""
    with pytest.raises(BrokenInvariant, match="body holds markup"):
        check(body, GENERIC_URL, LeakyParser, NoCleaning())
    assert check(body, GENERIC_URL, LeakyParser, PIPELINE) in {"parsed", "dropped/MissingRequiredField"}


DATE_TOKENS = ["18", "02", "2023", "23", "06:24", "14:30:59", "18.02.23", "2023-02-18T06:24:00+02:00", "марта", "лютого",
               "Feb", "вчора", "сегодня", "5", "хвилин", "тому", "hours", "ago", "+0200", "GMT", "Z", "T", ",", "-", "/",
               "9999", "0000", "31", "13", "1969", "2999", "Sun", "неділя", "о", "року", "\u00a0", "00:00", "24:00"]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=250), st.lists(st.sampled_from(DATE_TOKENS), max_size=8).map(" ".join)))
def test_parse_date_on_random_text(text: str) -> None:
    value = parse_date(text, now=FETCHED)
    if value is not None:
        assert value.utcoffset() == timedelta(0) and value.tzinfo is not None
        assert DEFAULT_FLOOR <= value <= FETCHED + MAX_FUTURE


def test_deeply_nested_jsonld_is_ignored() -> None:
    assert check(nested_jsonld_page(5000), GENERIC_URL, GenericParser, PIPELINE) in OUTCOMES


def test_a_page_that_reads_as_deeply_nested_json_is_parsed_as_html() -> None:
    """bench/fuzz.py seed 20261201 case 18785: a shuffled page starting with "[" made parsel try
    ``json.loads`` on it (RecursionError)."""
    page = "[" * 50_000 + "]" * 50_000 + "<html><body><h1>Title</h1></body></html>"
    assert check(page, GENERIC_URL, GenericParser, PIPELINE) in OUTCOMES


def test_control_character_in_an_attribute_name_is_ignored() -> None:
    assert check(control_attribute_page(), GENERIC_URL, GenericParser, PIPELINE) in OUTCOMES


@pytest.mark.parametrize("head", ['<meta {abc=1 property="og:title" content="A">', '<meta {a}b=1 content="A">'])
def test_brace_in_an_attribute_name_is_ignored(head: str) -> None:
    assert check(page_with_head(head), GENERIC_URL, GenericParser, PIPELINE) in OUTCOMES


def test_unreadable_hreflang_url_is_ignored() -> None:
    head = '<link rel="alternate" hreflang="uk" href="http://[x/a">'
    assert check(page_with_head(head), GENERIC_URL, GenericParser, PIPELINE) in OUTCOMES


@pytest.mark.parametrize("head", [
    '<meta property="og:image" content="//[cdn.example.org/630_360.jpg">',
    '<script type="application/ld+json">{"@type": "NewsArticle", "image": "http://[x/a.jpg"}</script>',
    '<link rel="canonical" href="https://[news.example.org/a">',
])
def test_unreadable_image_and_canonical_urls_are_skipped(head: str) -> None:
    html = page_with_head(head) + '<figure><img src="http://[x/b.jpg"></figure>'
    assert check(html, GENERIC_URL, GenericParser, PIPELINE) in OUTCOMES
    article = GenericParser.parse(html, GENERIC_URL)
    assert all("[" not in image.url for image in article.images)
    assert article.canonical_url == GENERIC_URL


@pytest.mark.parametrize("text", [
    "Story text <<b>y joined by removing a tag> goes on",
    "aerospace industr<y is ready to produce Su-25 attack a\u202eircraft]]> goes on",  # bench/fuzz.py case 6065
])
def test_tag_like_text_w3lib_leaves_is_removed(text: str) -> None:
    stored = plain_text(text)
    assert "<" not in stored and stored.startswith(("Story text", "aerospace industr")) and stored.endswith("goes on")


@pytest.mark.parametrize("fragment", ["&lt;script type=&quot;x", "&lt;!-- never closed"])
def test_dangling_markup_in_a_meta_description_is_not_stored(fragment: str) -> None:
    head = (f'<meta name="description" content="Lead of the story {fragment}">'
            '<meta property="article:published_time" content="2025-01-01T10:00:00Z">')
    assert check(page_with_head(head), GENERIC_URL, GenericParser, PIPELINE) in OUTCOMES
