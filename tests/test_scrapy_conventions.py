"""Scrapy as its users know it: ``scrapy check`` runs each site spider's contract offline against
its saved fixture page, and a contract fails when the article differs from the fixture."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.exceptions import ContractFail

from conftest import ROOT
from localsite import crawl_env
from newscrawl.ops.commands.check import FixtureContract, article_fixture, attach_fixture_contract
from newscrawl.extract.parser import ParserProxy
from newscrawl.sites import site_spiders


def scrapy(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = crawl_env(tmp_path, "", "conventions")
    env.pop("MONGO_URI")
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def test_scrapy_check_runs_a_fixture_contract_per_site_spider_offline(tmp_path: Path) -> None:
    spiders = [spider for spider in site_spiders() if article_fixture(spider.site.name)]
    assert len(spiders) >= 8
    result = scrapy(tmp_path, "check")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Ran {3 * len(spiders)} contracts" in result.stderr and "\nOK" in result.stderr
    assert not (tmp_path / "data/mongo").exists(), "scrapy check opened a database"


def test_a_fixture_contract_fails_on_a_wrong_article() -> None:
    fixture = article_fixture("unian")
    assert fixture is not None
    name = fixture.json_path.relative_to(fixture.json_path.parents[1]).with_suffix("").as_posix()
    spider = next(s for s in site_spiders() if s.name == "unian")
    attach_fixture_contract(spider)
    contract = FixtureContract(spider.__new__(spider).check_fixture, name)
    parser: type[ParserProxy] = spider.parser
    article = parser.parse(fixture.html(), fixture.url, fetched_at=fixture.fetched_at)
    contract.post_process([article])  # the fixture's own article passes
    article.title = "Another headline"
    with pytest.raises(ContractFail, match="title"):
        contract.post_process([article])
    with pytest.raises(ContractFail, match="expected one article"):
        contract.post_process([])


def test_scrapy_parse_needs_no_callback(tmp_path: Path) -> None:
    """``scrapy parse --spider=unian URL``: the spider's ``parse`` knows an article URL (replayed offline)."""
    url = "https://www.unian.info/world/putin-absorbs-belarusian-factories-to-strengthen-his-army-isw-12149817.html"
    result = scrapy(tmp_path, "parse", "--spider=unian", "-s", f"NEWSCRAWL_REPLAY={ROOT / 'tests/files/unian/unian-sample.warc.gz'}",
                    url)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "# Scraped Items" in result.stdout and "'authors': ['Marta Gichko']" in result.stdout
    assert "callback is not defined" not in result.stderr
