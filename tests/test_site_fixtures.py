"""Every site fixture in tests/sites/ parses to exactly its expected fields, and breaking any
declaration of a site (a selector, a list of settings, its URL pattern, editions or layout era)
fails that comparison on a field the declaration feeds.

A fixture (see ``newscrawl/ops/site_fixtures.py``) is a saved page, its URL and fetch time, and every
field the site parser gave when it was recorded and reviewed. Each page is parsed as served and
without its JSON-LD and ``<meta>`` tags, so that the site's own markup has to answer too.
New fixtures: ``python -m newscrawl record --url URL FILE`` (docs/ADDING_A_SITE.md).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from newscrawl.ops.cli import main
from newscrawl.extract.parser import ArticleParser
from newscrawl.ops.site_fixtures import SITES_DIR, VARIANTS, Fixture, Mismatch, compare, discover, report
from newscrawl.sites import parser_for_url, site_parsers

FIXTURES = discover()


@cache
def page(fixture: Fixture) -> str:
    return fixture.html()


def mismatches(fixture: Fixture, variant: str) -> list[Mismatch]:
    return compare(fixture.expected(variant), fixture.parse(variant, page(fixture)))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f"{f.site}/{f.json_path.stem}")
def test_fixture_parses_to_its_expected_fields(fixture: Fixture, variant: str) -> None:
    found = mismatches(fixture, variant)
    assert not found, report(fixture, variant, found)


def test_every_declared_site_has_fixtures_with_provenance() -> None:
    """A folder of fixtures for each declared site (none for a site without one), each with its PROVENANCE.md."""
    sites = {parser.site.name for parser in site_parsers() if parser.site}
    assert {fixture.site for fixture in FIXTURES} == sites
    for site in sites:
        assert (SITES_DIR / site / "PROVENANCE.md").is_file(), f"tests/sites/{site}/PROVENANCE.md is missing"


def test_record_writes_a_fixture_that_passes_and_keeps_its_note(tmp_path: Path) -> None:
    """``python -m newscrawl record`` on a saved page: the page gzipped into <dir>/<site>/, the JSON of
    what the parser gives, which the comparison accepts; recording its JSON again keeps URL, time and note."""
    source = next(f for f in FIXTURES if f.site == "unn")
    args = ["record", str(source.page_path), "--url", source.url, "--fetched-at", source.data["fetched_at"],
            "--dir", str(tmp_path), "--note", "reviewed"]
    assert main(args) == 0
    (written,) = (tmp_path / "unn").glob("*.json")
    assert written.name == "1906059-parlament-moldovi-z-podachi-dodona_2020-12-03.json"
    recorded = Fixture.load(written)
    assert recorded.data["expected"] == source.data["expected"]
    assert recorded.data["without_structured_data"] == source.data["without_structured_data"]
    assert gzip.decompress(recorded.page_path.read_bytes()) == gzip.decompress(source.page_path.read_bytes())
    for variant in VARIANTS:
        assert not mismatches(recorded, variant)
    assert main(["record", str(written)]) == 0
    again = Fixture.load(written)
    assert (again.url, again.fetched_at, again.data["note"]) == (source.url, source.fetched_at, "reviewed")


def test_record_refuses_a_page_without_an_article_and_a_page_without_url(tmp_path: Path) -> None:
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body><p>nothing here</p></body></html>", encoding="utf-8")
    assert main(["record", str(empty), "--url", "https://www.unn.com.ua/ru/news/1906059-x",
                 "--dir", str(tmp_path / "sites")]) == 2
    assert main(["record", str(empty), "--dir", str(tmp_path / "sites")]) == 1
    assert not (tmp_path / "sites").exists()


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f"{f.site}/{f.json_path.stem}")
def test_fixture_is_parsed_by_its_sites_parser(fixture: Fixture) -> None:
    """The fixture's folder is the site its URL's parser declares, and its page is where the JSON says."""
    assert fixture.page_path.is_file()
    site = parser_for_url(fixture.url).versions[-1].site
    assert site is not None and site.name == fixture.site == fixture.data["expected"]["site"]


def test_a_changed_field_fails_with_its_name_and_a_short_diff() -> None:
    """The comparison names the field and shows expected and got; a body difference as a short diff."""
    fixture = next(f for f in FIXTURES if f.site == "pravda")
    got = fixture.parse("as_served", page(fixture))
    got["title"] = "Another headline"
    paragraphs = got["body"].split("\n\n")
    got["body"] = "\n\n".join([*paragraphs[:3], "An inserted paragraph.", *paragraphs[4:]])
    got["surprise"] = 1
    message = report(fixture, "as_served", compare(fixture.expected("as_served"), got))
    assert "3 field(s) differ (title, body, surprise)" in message
    assert 'title: expected "157 миллионов за бездействие.' in message and 'got "Another headline"' in message
    assert f"\n-{paragraphs[3][:100]}" in message and "\n+An inserted paragraph." in message
    assert paragraphs[10][:100] not in message  # a short diff, not the whole body
    assert 'surprise: expected "<not in the fixture>", got 1' in message
    assert len(message) < 4000


# -- selector mutations -------------------------------------------------------------------------

BODY = frozenset({"body"})
#: the fields each declaration of a site feeds: a broken declaration must change one of them
FEEDS: dict[str, frozenset[str]] = {
    "title_css": frozenset({"title"}),
    "lead_css": frozenset({"lead"}),
    "published_css": frozenset({"published_at", "published_raw", "published_local"}),
    "modified_css": frozenset({"modified_at"}),
    "author_css": frozenset({"authors"}),
    "body_css": BODY,
    "body_exclude": BODY,
    "body_stop_markers": BODY,
    "figure_css": frozenset({"images"}),
    "figure_image_attrs": frozenset({"images"}),
    "caption_css": frozenset({"images"}),
    "tags_css": frozenset({"tags"}),
    "section_css": frozenset({"section"}),
    "TIMEZONE": frozenset({"published_at", "published_local", "modified_at"}),
    "VALID_UNTIL": frozenset({"parser"}),
    "site.article_url": frozenset({"source_id"}),
    "site.editions": frozenset({"language", "translations"}),
}
#: what a parser reads of its site's declaration (the rest is for its spider, or names it)
SITE_READ = ("article_url", "editions")
_SAME_BODY = "the generic extractor (trafilatura) gives the same text from this page"
_SAME_BYLINE = "the generic byline reader finds the same names (author class / itemprop)"
_SAME_LANGUAGE = ("the page's <html lang> gives the same language (layers.language: url → html), and its "
                  "hreflang alternates are on the same registrable domain, so they stay same-site")
#: what breaking a declaration changes, when it is not the value of a field it feeds: ``layer``, only
#: the layer that answered that field (a fallback layer gave the same value; the fixture test still
#: fails, on ``layers.<field>``); ``none``, nothing. Why, for each. The test fails when one changes.
NOT_BY_VALUE: dict[str, tuple[str, str]] = {
    "unian-V1.site.editions": ("layer", "the pre-2020 pages say <html lang=ru> and list only edition home pages "
                                   "as alternates, never translations"),
    "unian-V1_1.published_css": ("layer", "the generic visible-date reader finds the same time after the <h1>"),
    "unian-V1_1.author_css": ("layer", _SAME_BYLINE),
    "pravda-V1.author_css": ("layer", _SAME_BYLINE),
    "pravda-V1.body_css": ("layer", _SAME_BODY + " (without its captions, ad label and closing byline)"),
    "pravda-V1.site.editions": ("layer", _SAME_LANGUAGE),
    "ukrinform-V1.published_css": ("layer", "the generic <time datetime> reader reads the same element"),
    "ukrinform-V1.site.editions": ("layer", _SAME_LANGUAGE),
    "unn-V1.author_css": ("layer", _SAME_BYLINE),
    "unn-V1.body_css": ("layer", _SAME_BODY),
    "unn-V1.site.editions": ("layer", _SAME_LANGUAGE),
    "tv24-V1.published_css": ("layer", "the generic <time datetime> reader reads the same element"),
    "tv24-V1.author_css": ("layer", _SAME_BYLINE),
    "tv24-V1.site.editions": ("layer", _SAME_LANGUAGE),
    "football_ua-V1.published_css": ("layer", "the visible-date reader finds the same date in the photo's "
                                              "span.photo-date after the <h1>"),
    "football_ua-V1.body_css": ("layer", _SAME_BODY),
    "football_ua-V1.caption_css": ("none", "the image's alt text is the caption: the fallback gives the same"),
    "football_ua-V1.site.editions": ("layer", _SAME_LANGUAGE),
    "liga-V1.site.editions": ("layer", _SAME_LANGUAGE),
    "ukranews-V1.site.editions": ("layer", _SAME_LANGUAGE),
}


def _matches_nothing(query: str) -> str:
    """A selector of the same kind (XPath or CSS) that matches nothing."""
    return "//nc-matches-nothing" if query.startswith(("/", "(")) else "nc-matches-nothing"


def _broken(name: str, value: Any) -> Any:
    """``value`` of declaration ``name`` broken: selectors match nothing, lists are emptied."""
    if name == "site.article_url":
        return re.compile(r"(?P<id>(?!))")
    if name == "VALID_UNTIL":
        return date.min  # the era never applies
    if name == "TIMEZONE":
        return "UTC" if value != "UTC" else "Asia/Tokyo"
    if isinstance(value, str):
        return _matches_nothing(value)
    if isinstance(value, (tuple, dict)):
        return type(value)()
    raise AssertionError(f"no way to break {name}={value!r}: teach _broken")


def declarations(site: str) -> Iterator[tuple[type[ArticleParser], str, Any]]:
    """(parser class, name, value) of each declaration a site's parser versions make themselves,
    including what the site's declaration gives them (editions, URL pattern)."""
    parser = next(p for p in site_parsers() if p.site and p.site.name == site)
    declaring = dict.fromkeys(cls for version in parser.versions for cls in version.__mro__
                              if issubclass(cls, ArticleParser) and cls is not ArticleParser)
    for cls in declaring:
        for name, value in vars(cls).items():
            if name.startswith("_") or callable(value) or isinstance(value, (classmethod, staticmethod, property)):
                continue
            if name == "site":
                yield from ((cls, f"site.{read}", getattr(value, read)) for read in SITE_READ)
            elif value is not None and not (name == "VALID_UNTIL" and value == date.max):
                yield cls, name, value


def mutation_cases() -> list[Any]:
    sites = sorted({fixture.site for fixture in FIXTURES} & {p.site.name for p in site_parsers() if p.site})
    return [pytest.param(site, cls, name, value, id=f"{site}-{cls.__name__}.{name}")
            for site in sites for cls, name, value in declarations(site)]


def outcome(name: str, changed: set[str]) -> str:
    """``value`` when a field ``name`` feeds changed, ``layer`` when only the layer of one did, else ``none``."""
    if {field.partition(".")[0] for field in changed if not field.startswith("layers.")} & FEEDS[name]:
        return "value"
    layer_fields = {f"layers.{field}" for field in FEEDS[name]} | ({"published_source"} & changed
                                                                    if "published_at" in FEEDS[name] else set())
    return "layer" if changed & layer_fields else "none"


@pytest.mark.parametrize(("site", "cls", "name", "value"), mutation_cases())
def test_breaking_a_declaration_fails_the_field_it_feeds(
    site: str, cls: type[ArticleParser], name: str, value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each selector of a site matches nothing, each list of its settings is emptied, its URL
    pattern matches nothing, its editions are forgotten, an older era never applies: the site's
    fixtures must fail on a field that declaration feeds (the exceptions are in NOT_BY_VALUE)."""
    assert name in FEEDS, f"{cls.__qualname__}.{name}: say in FEEDS which fields it feeds"
    owner, _, read = name.rpartition(".")
    if owner:  # a field of the site's declaration
        monkeypatch.setattr(cls, owner, replace(getattr(cls, owner), **{read: _broken(name, value)}))
    else:
        monkeypatch.setattr(cls, name, _broken(name, value))
    changed = {m.field for fixture in FIXTURES if fixture.site == site
               for variant in VARIANTS for m in mismatches(fixture, variant)}
    key = f"{site}-{cls.__name__}.{name}"
    expected = NOT_BY_VALUE.get(key, ("value", ""))[0]
    assert outcome(name, changed) == expected, (
        f"breaking {cls.__qualname__}.{name} (feeds {sorted(FEEDS[name])}) changed {sorted(changed) or 'nothing'}: "
        f"outcome {outcome(name, changed)!r}, expected {expected!r} (see NOT_BY_VALUE)")
