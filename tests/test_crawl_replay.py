"""`scrapy crawl unian` end to end over a WARC archive: the same code path as a live crawl, offline."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import FILES, saved_bytes
from localsite import crawl_env, run_crawl
from test_unian_parser import SEED_PAGE, UK_URL, seed_expectations

SAMPLE = FILES / "unian/unian-sample.warc.gz"
SEED_URL = "https://www.unian.info/world/putin-absorbs-belarusian-factories-to-strengthen-his-army-isw-12149817.html"


@pytest.fixture(scope="module")
def sample_crawl(tmp_path_factory: pytest.TempPathFactory, mongo_uri: str) -> tuple[list[dict], str]:
    """``scrapy crawl unian`` over the sample archive: its items and its log."""
    work = tmp_path_factory.mktemp("replay")
    done = run_crawl("scrapy", "crawl", "unian", env=crawl_env(work, mongo_uri, "replay"), feed=work / "out.jsonl",
                     log=work / "crawl.log", settings={"NEWSCRAWL_REPLAY": SAMPLE})
    return done.items, done.log


def test_the_shipped_sample_archive_is_what_the_builder_makes(tmp_path: Path) -> None:
    from newscrawl.crawl.replay import read_warc

    sys.path.insert(0, str(FILES / "unian"))
    from build_sample_archive import build

    rebuilt = read_warc(build(tmp_path / "sample.warc.gz"))
    shipped = read_warc(SAMPLE)
    assert {k: (v.status, v.body) for k, v in rebuilt.items()} == {k: (v.status, v.body) for k, v in shipped.items()}
    assert shipped[next(k for k in shipped if "12149817" in k)].body == saved_bytes(SEED_PAGE)


@pytest.mark.crawl
def test_replay_yields_the_seed_article_with_every_field_right(sample_crawl: tuple[list[dict], str]) -> None:
    items, _ = sample_crawl
    assert [item["url"] for item in items] == [SEED_URL]
    (article,) = items
    expected = seed_expectations()
    assert article["title"] == expected["title"]
    assert article["lead"] == expected["lead"]
    assert article["body"] == expected["body"]
    assert article["authors"] == ["Marta Gichko"]
    assert article["published_at"] == "2023-02-18T04:24:00+00:00"
    assert article["published_raw"] == "06:24, 18.02.23"
    assert article["published_source"] == "html"
    assert article["fetched_at"] == "2023-02-18T04:31:00+00:00"  # the archived response's Date
    assert article["language"] == "en" and article["site"] == "unian" and article["source_id"] == "12149817"
    assert article["images"] == [
        {
            "url": "https://images.unian.net/photos/2023_02/1676694240-1234.jpg",
            "caption": "Putin absorbs the Belarusian military-industrial complex to strengthen his army",
            "credit": "REUTERS",
        }
    ]
    assert article["translations"] == {"uk": UK_URL}
    assert article["section"] == "World"
    assert article["parser"].startswith("UnianParser.V1_1")


@pytest.mark.crawl
def test_replay_counts_what_the_archive_lacks(sample_crawl: tuple[list[dict], str]) -> None:
    _, log = sample_crawl
    # 49 Ukrainian feed articles + 1 listing link + 5 listing/feed URLs + 3 robots.txt and the 3 /sitemap.xml
    # they fall back to are not archived
    assert "'newscrawl/replay/hits': 4" in log
    assert "'newscrawl/replay/missing': 65" in log
    assert "'newscrawl/feed_entries': 50" in log
    assert "'item_scraped_count': 1" in log
    assert "'newscrawl/mongo/inserted': 1" in log


@pytest.mark.crawl
def test_editions_argument_over_replay(tmp_path: Path, mongo_uri: str) -> None:
    done = run_crawl("scrapy", "crawl", "unian", "-a", "editions=uk", env=crawl_env(tmp_path, mongo_uri, "replay"),
                     feed=tmp_path / "out.jsonl", log=tmp_path / "crawl.log", settings={"NEWSCRAWL_REPLAY": SAMPLE})
    items, log = done.items, done.log
    assert items == []
    assert "'newscrawl/feeds_fetched': 1," in log  # the Ukrainian feed only
    assert "'newscrawl/replay/hits': 1," in log
    # its 49 articles, 2 listing pages, robots.txt of www.unian.ua and of www.unian.net (one feed
    # link) for the robots middleware, www.unian.ua/robots.txt again for its Sitemap: lines and
    # the /sitemap.xml it falls back to
    assert "'newscrawl/replay/missing': 55" in log
