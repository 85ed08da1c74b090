"""An article the parse worker prepared (cleaned, identified, its language guessed, sealed:
``newscrawl/extract/clean.py``) leaves the clean and identity pipelines exactly as an article they
clean and identify themselves, field by field, on the real pages of tests/sites and
tests/files/fundus; and an article changed after it was sealed is cleaned and identified again."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from conftest import ROOT
from newscrawl.extract.clean import SEAL, prepare, sealed
from newscrawl.extract.identity import identify
from newscrawl.extract.items import Article
from newscrawl.ops.site_fixtures import VARIANTS, discover, page_text
from newscrawl.sites import parser_for_url
from pipelines.clean import CleanPipeline
from pipelines.identity import IdentityPipeline

FUNDUS = ROOT / "tests" / "files" / "fundus"
FETCHED = datetime(2026, 12, 1, tzinfo=timezone.utc)  # after every page's date


def fundus_pages() -> list[tuple[str, Path]]:
    """(URL, file) of the Fundus pages, from the table of their README."""
    table = (FUNDUS / "README.md").read_text(encoding="utf-8")
    return [(url, FUNDUS / name) for name, url in re.findall(r"^\| `([^`]+\.html\.gz)` \| (\S+) \|", table, re.M)]


PAGES = [pytest.param(fixture.url, fixture.page_path, fixture.fetched_at, variant,
                      id=f"{fixture.site}/{fixture.json_path.stem}/{variant}")
         for fixture in discover() for variant in VARIANTS if "not_an_article" not in fixture.expected(variant)]
PAGES += [pytest.param(url, path, FETCHED, "as_served", id=f"fundus/{path.name}") for url, path in fundus_pages()]


def through_pipelines(article: Article) -> dict[str, Any] | str:
    """The article as the clean and identity pipelines pass it on, or why they drop it."""
    try:
        return ItemAdapter(IdentityPipeline().process_item(CleanPipeline().process_item(article))).asdict()
    except DropItem as dropped:
        return repr(dropped)


def parse(url: str, path: Path, fetched_at: datetime, variant: str) -> Article:
    html = VARIANTS[variant](page_text(gzip.decompress(path.read_bytes())))
    return parser_for_url(url).parse(html, url, fetched_at=fetched_at)


def test_the_readme_names_every_fundus_page() -> None:
    assert sorted(path.name for _, path in fundus_pages()) == sorted(p.name for p in FUNDUS.glob("*.html.gz"))


@pytest.mark.parametrize(("url", "path", "fetched_at", "variant"), PAGES)
def test_a_prepared_article_leaves_the_pipelines_as_one_they_prepare(url: str, path: Path, fetched_at: datetime,
                                                                   variant: str) -> None:
    by_pipelines = parse(url, path, fetched_at, variant)
    identify(ItemAdapter(by_pipelines))  # as a worker did before it prepared articles
    prepared = parse(url, path, fetched_at, variant)
    prepare(prepared, ItemAdapter(prepared))
    assert sealed(prepared) is not None
    assert through_pipelines(prepared) == through_pipelines(by_pipelines)


def test_an_article_changed_after_it_was_sealed_is_cleaned_and_identified_again() -> None:
    url, path = fundus_pages()[0]
    article = parse(url, path, FETCHED, "as_served")
    prepare(article, ItemAdapter(article))
    hash_before = article.content_hash
    article.body = f"<p>An <b>inserted</b> sentence.</p>\n\n{article.body}"  # a pipeline of the user's, say
    article.authors.append("<i>Someone Else</i>")
    assert sealed(article) is None
    done = through_pipelines(article)
    assert done["body"].startswith("An inserted sentence.\n\n")
    assert done["authors"][-1] == "Someone Else"
    assert done["content_hash"] != hash_before
    unsealed = parse(url, path, FETCHED, "as_served")
    unsealed.body, unsealed.authors = article.body, [*unsealed.authors, "<i>Someone Else</i>"]
    assert not hasattr(unsealed, SEAL)
    assert through_pipelines(unsealed) == done


HOSTILE = """<html lang="en"><head><title>x</title><script type="application/ld+json">{json}</script></head>
<body><article><h1>Council &lt;b&gt;approves&lt;/b&gt; the budget</h1><p>{body}</p></article></body></html>"""


def test_what_cleaning_changes_is_changed_the_same_in_the_worker() -> None:
    """A page whose fields carry markup, control characters and a lone surrogate (synthetic: a fault,
    not a layout): cleaning changes them, and the prepared article leaves the pipelines as the other."""
    body = " ".join(["The council met on Tuesday and approved the budget for the coming year."] * 12)
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "datePublished": "2024-05-01T10:00:00+03:00",
            "headline": "Council <b>approves</b>\u0007 the budget \ud800", "author": [{"name": "<i>Olena Bondar</i>"}],
            "keywords": ["budget\u0000", "<em>council</em>"], "articleBody": f"<p>{body}</p>\n<p>Second \u0001paragraph.</p>",
            "image": {"url": "javascript:alert(1)"}}
    html = HOSTILE.format(json=json.dumps(data), body=body)
    url = "https://example.org/news/2024/05/01/council-budget.html"
    raw = parser_for_url(url).parse(html, url, fetched_at=FETCHED)
    by_pipelines = parser_for_url(url).parse(html, url, fetched_at=FETCHED)
    identify(ItemAdapter(by_pipelines))
    prepared = parser_for_url(url).parse(html, url, fetched_at=FETCHED)
    prepare(prepared, ItemAdapter(prepared))
    cleaned = through_pipelines(by_pipelines)
    assert isinstance(cleaned, dict)
    assert [name for name in ("title", "authors", "tags", "body") if cleaned[name] != getattr(raw, name)]
    assert through_pipelines(prepared) == cleaned
