"""UNIAN discovery on real feeds/pages: which requests the spider makes, without any network."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.utils.test import get_crawler

from conftest import FILES, SITES, saved_bytes
from newscrawl.extract.items import Article
from newscrawl.crawl.spider import SpiderArgumentError
from spiders.unian import UnianSpider

SEED_URL = "https://www.unian.info/world/putin-absorbs-belarusian-factories-to-strengthen-his-army-isw-12149817.html"


def make_spider(**kwargs: Any) -> UnianSpider:
    crawler = get_crawler(UnianSpider, {"NEWSCRAWL_LISTING_PAGES": 2})
    return UnianSpider.from_crawler(crawler, **kwargs)


def response(cls: type, name: str, url: str, headers: dict[str, str] | None = None) -> Any:
    return cls(url=url, body=saved_bytes(FILES / name), encoding="utf-8", headers=headers)


def test_default_start_requests_cover_feeds_and_listings_of_three_editions() -> None:
    urls = [r.url for r in make_spider().first_requests()]
    assert urls == [
        "https://www.unian.ua/static/rss/all.xml",
        "https://www.unian.ua/detail/all_news?page=1",
        "https://www.unian.ua/detail/all_news?page=2",
        "https://www.unian.net/rss/index.xml",
        "https://www.unian.net/detail/all_news?page=1",
        "https://www.unian.net/detail/all_news?page=2",
        "https://www.unian.info/rss",
        "https://www.unian.info/detail/all_news?page=1",
        "https://www.unian.info/detail/all_news?page=2",
        "https://www.unian.ua/robots.txt",
        "https://www.unian.net/robots.txt",
        "https://www.unian.info/robots.txt",
    ]


def test_editions_argument_narrows_and_rejects_unknown() -> None:
    assert {r.url.split("/")[2] for r in make_spider(editions="en").first_requests()} == {"www.unian.info"}
    with pytest.raises(SpiderArgumentError, match="unknown de"):
        make_spider(editions="en,de")


def test_since_until_walks_the_daily_archives_and_nothing_else() -> None:
    urls = [r.url for r in make_spider(editions="uk,ru", since="2023-02-27", until="2023-03-01").first_requests()]
    assert urls == [
        "https://www.unian.ua/news/archive/20230227",
        "https://www.unian.net/news/archive/20230227",
        "https://www.unian.ua/news/archive/20230228",
        "https://www.unian.net/news/archive/20230228",
        "https://www.unian.ua/news/archive/20230301",
        "https://www.unian.net/news/archive/20230301",
    ]
    with pytest.raises(SpiderArgumentError):
        make_spider(since="2023-03-01", until="2023-02-01")
    with pytest.raises(SpiderArgumentError):
        make_spider(since="yesterday")


def test_real_rss_feed_yields_article_requests_with_hints() -> None:
    spider = make_spider()
    feed = response(XmlResponse, "unian/rss_unian_ua_2020-09-28.xml", "https://www.unian.ua/static/rss/all.xml")
    requests = list(spider.parse_feed(feed))
    # every item but one press release on press.unian.ua (not a news edition) is followed
    assert len(requests) == feed.text.count("<item>") - 1 == 49
    assert not any("press.unian.ua" in r.url for r in requests)
    assert spider.crawler.stats.get_value("newscrawl/feed_entries_skipped") == 1
    first = requests[0]
    assert first.url == (
        "https://www.unian.ua/war/donbas-u-dnipri-likari-ryatuyut-sapera-yakiy-pidirvavsya-na-donbasi-video-novini-dnipra-11162807.html"
    )
    hint = first.cb_kwargs["hint"]
    assert hint.title.startswith('"Зір вдалося зберегти"')
    assert hint.published_raw == "Mon, 28 Sep 2020 16:35:12 +0300"
    assert hint.image_url == "http://images.unian.net/photos/2020_09/1601299831-6340.png"
    assert hint.section == "Война"
    assert all(spider.is_article_url(r.url) for r in requests)


def test_real_2018_homepage_links_are_articles() -> None:
    """The 2018 layout put the id first (``/world/10046465-slug.html``); listings still find them."""
    spider = make_spider()
    page = response(HtmlResponse, SITES / "unian/ru-homepage_2018-03-18.excerpt.html.gz", "https://www.unian.net/")
    requests = list(spider.parse_listing(page, page=None))
    urls = [r.url for r in requests]
    assert "https://www.unian.net/world/10046465-eks-zamglavy-fbr-peredal-specprokuroru-sekretnuyu-informaciyu-o-svyazyah-trampa-s-rossiey-smi.html" in urls
    assert len(urls) == len(set(urls)) > 10
    assert not any("/news/archive/" in u or "/detail/" in u for u in urls)


def test_archive_listing_follows_its_pagination() -> None:
    spider = make_spider()
    page = response(
        HtmlResponse, "unian/all_news_unian_info_2023-02-18.reconstructed.html", "https://www.unian.info/detail/all_news?page=1"
    )
    out = list(spider.parse_listing(page, page=1))
    articles = [r for r in out if r.callback == spider.parse_article]
    assert [r.url for r in articles] == [SEED_URL, "https://www.unian.info/war/placeholder-not-in-archive-12149800.html"]
    assert articles[0].cb_kwargs["hint"].title == "Putin absorbs Belarusian factories to strengthen his army – ISW"
    next_pages = [r for r in out if r.callback == spider.parse_listing]
    assert [r.url for r in next_pages] == ["https://www.unian.info/detail/all_news?page=2"]
    # the latest-news listing (page=None) does not paginate: its pages are requested up front
    assert all(r.callback == spider.parse_article for r in spider.parse_listing(page, page=None))


def test_parse_article_uses_the_response_date_for_relative_times() -> None:
    spider = make_spider()
    page = response(
        HtmlResponse,
        SITES / "unian/en-putin-belarus_2023-02-18.reconstructed.html.gz",
        SEED_URL,
        headers={"Date": "Sat, 18 Feb 2023 07:00:00 GMT"},
    )
    (article,) = spider.parse_article(page)
    assert isinstance(article, Article)
    assert article.fetched_at == datetime(2023, 2, 18, 7, 0, tzinfo=timezone.utc)
    assert article.published_at == datetime(2023, 2, 18, 4, 24, tzinfo=timezone.utc)
    assert spider.crawler.stats.get_value("newscrawl/layer/body/html") == 1


def test_a_page_that_is_not_an_article_is_counted_not_raised() -> None:
    spider = make_spider()
    page = HtmlResponse(url=SEED_URL, body=b"<html><body><p>Access denied</p></body></html>", encoding="utf-8")
    assert list(spider.parse_article(page)) == []
    assert spider.crawler.stats.get_value("newscrawl/not_article") == 1


def test_binary_response_is_counted() -> None:
    from scrapy.http import Response

    spider = make_spider()
    assert list(spider.parse_article(Response(url=SEED_URL, body=b"\x89PNG\r\n"))) == []
    assert spider.crawler.stats.get_value("newscrawl/not_html") == 1

