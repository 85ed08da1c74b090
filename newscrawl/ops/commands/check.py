"""``scrapy check`` offline: each site spider's contract is its saved fixture page.

When the command runs, each site spider with an article fixture in ``tests/sites/`` (see
:mod:`newscrawl.ops.site_fixtures`) gets a callback ``check_fixture`` whose contract is
``@fixture SITE/NAME``: the contract's request goes to the fixture's URL, :class:`FixturePages`
answers it with the saved page, dated when it was fetched, so nothing leaves the machine; the
callback must give one article whose fields are the fixture's expectation.
"""

from __future__ import annotations

import gzip
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.commands.check import Command as ScrapyCheck
from scrapy.contracts import Contract
from scrapy.exceptions import ContractFail
from scrapy.http import HtmlResponse, Request
from scrapy.settings import SETTINGS_PRIORITIES

from newscrawl.extract.items import Article
from newscrawl.ops.site_fixtures import SITES_DIR, Fixture, article_fields, compare

if TYPE_CHECKING:
    import argparse

    from scrapy import Spider

#: the request meta key naming the fixture that answers it
FIXTURE_META = "newscrawl_fixture"
#: set over the project's settings (a ``-s`` on the command line still wins)
CHECK_SETTINGS: dict[str, Any] = {
    "SPIDER_CONTRACTS": {"newscrawl.ops.commands.check.FixtureContract": 10},
    "DOWNLOADER_MIDDLEWARES": {"newscrawl.ops.commands.check.FixturePages": 1},
    # a check stores nothing and records no run: no database is opened
    "ITEM_PIPELINES": {},
    "EXTENSIONS": {"newscrawl.ops.runs.RunRecorder": None},
    "NEWSCRAWL_INCREMENTAL": False,
    "NEWSCRAWL_PLAYWRIGHT": "off",
    "NEWSCRAWL_PARSE_WORKERS": 0,
    "ROBOTSTXT_OBEY": False,
}


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


def attach_fixture_contract(spidercls: type[Spider]) -> None:
    """Give a site spider ``check_fixture``, the callback whose contract is its site's saved
    fixture page; a spider without a site or without an article fixture gets none."""
    site = getattr(spidercls, "site", None)
    contract = fixture_docstring(site.name) if site is not None else None
    if contract is None:
        return

    def check_fixture(self: Any, response: Any) -> Any:
        return self.parse_article(response)

    check_fixture.__doc__ = contract
    spidercls.check_fixture = check_fixture  # type: ignore[attr-defined]


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
        mismatches = compare(self.fixture.expected("as_served"), article_fields(articles[0]))
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


class Command(ScrapyCheck):
    """Scrapy's ``check`` with the fixture contract, offline."""

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        for name, value in CHECK_SETTINGS.items():
            if (self.settings.getpriority(name) or 0) < SETTINGS_PRIORITIES["cmdline"]:
                if isinstance(value, dict) and name != "ITEM_PIPELINES":
                    value = {**self.settings.getdict(name), **value}
                self.settings.set(name, value, priority="cmdline")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        """Give each spider checked its fixture contract, then check them."""
        assert self.crawler_process is not None
        loader = self.crawler_process.spider_loader
        for name in args or loader.list():
            attach_fixture_contract(loader.load(name))
        super().run(args, opts)
