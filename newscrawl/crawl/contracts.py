"""``scrapy check`` offline: each site spider's contract is its saved fixture page.

``@fixture SITE/NAME`` (a fixture of ``tests/sites/``, see :mod:`newscrawl.ops.site_fixtures`)
sends the contract's request to the fixture's URL and :class:`FixturePages` answers it with the
saved page, dated when it was fetched, so nothing leaves the machine; the callback must give one
article whose fields are the fixture's expectation.
"""

from __future__ import annotations

import gzip
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from scrapy.contracts import Contract
from scrapy.exceptions import ContractFail
from scrapy.http import HtmlResponse, Request

from newscrawl.extract.items import Article
from newscrawl.ops.site_fixtures import PIPELINE_FIELDS, SITES_DIR, Fixture, compare

#: the request meta key naming the fixture that answers it
FIXTURE_META = "newscrawl_fixture"


def article_fixture(site: str, root: Path = SITES_DIR) -> Fixture | None:
    """The first fixture of ``site`` that is an article page, if it has one."""
    for path in sorted((root / site).glob("*.json")):
        fixture = Fixture.load(path)
        if "not_an_article" not in fixture.expected("as_served"):
            return fixture
    return None


def fixture_docstring(site: str) -> str | None:
    """The contract lines of ``site``'s fixture callback; None when the site has no article fixture."""
    fixture = article_fixture(site)
    if fixture is None:
        return None
    name = fixture.json_path.relative_to(SITES_DIR).with_suffix("").as_posix()
    return f"""The site's saved fixture page parses into the article its fixture expects.

        @fixture {name}
        @returns items 1 1
        @returns requests 0 0
        """


class FixtureContract(Contract):
    """``@fixture SITE/NAME``: request the fixture's URL, answered offline with its page; the
    article given must have every field the fixture expects."""

    name = "fixture"

    @property
    def fixture(self) -> Fixture:
        return Fixture.load(SITES_DIR / f"{self.args[0]}.json")

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        args["url"] = self.fixture.url
        args["meta"] = {**(args.get("meta") or {}), FIXTURE_META: self.args[0]}
        args["dont_filter"] = True
        return args

    def post_process(self, output: list[Any]) -> None:
        articles = [item for item in output if isinstance(item, Article)]
        if len(articles) != 1:
            raise ContractFail(f"expected one article from {self.args[0]}, got {len(articles)}")
        got = articles[0].to_json_dict()
        for name in PIPELINE_FIELDS:
            got.pop(name, None)
        got["parser"] = (got.get("parser") or "").partition("@")[0]
        mismatches = compare(self.fixture.expected("as_served"), got)
        if mismatches:
            raise ContractFail("; ".join(m.describe().splitlines()[0] for m in mismatches))


class FixturePages:
    """Downloader middleware (``scrapy check`` only): answer a request that names a fixture with
    its saved page, as fetched then."""

    def process_request(self, request: Request) -> HtmlResponse | None:
        name = request.meta.get(FIXTURE_META)
        if name is None:
            return None
        fixture = Fixture.load(SITES_DIR / f"{name}.json")
        return HtmlResponse(request.url, status=200, body=gzip.decompress(fixture.page_path.read_bytes()),
                            headers={"Content-Type": "text/html", "Date": format_datetime(fixture.fetched_at, usegmt=True)},
                            request=request)
