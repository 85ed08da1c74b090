"""Discovery of the regional spiders: real feeds (Pravda's in windows-1251), sitemaps and backfill.

Feeds are the real captures in tests/files/regional. The sitemap files here are small synthetic
documents in the sitemaps.org / Google News formats (format tests, not a site's layout).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
import scrapy
from scrapy.http import Response, TextResponse, XmlResponse
from scrapy.utils.test import get_crawler

from conftest import FILES
from newscrawl.crawl.sitemaps import SitemapEntry, Window, child_in_window, page_in_window, period_in_url, read_sitemap
from newscrawl.crawl.spider import NewsSpider, SpiderArgumentError
from spiders.generic import GenericSpider
from spiders.liga import LigaSpider
from spiders.pravda import PravdaSpider
from spiders.ukranews import UkranewsSpider
from spiders.ukrinform import UkrinformSpider
from spiders.unn import UnnSpider


def make(spider_cls: type[NewsSpider], **kwargs: Any) -> NewsSpider:
    crawler = get_crawler(spider_cls)
    return spider_cls.from_crawler(crawler, **kwargs)


def feed(name: str, url: str) -> XmlResponse:
    return XmlResponse(url=url, body=(FILES / "regional" / name).read_bytes())


def requests_of(results: Any) -> list[scrapy.Request]:
    return [r for r in results if isinstance(r, scrapy.Request)]


def test_pravda_feed_in_windows_1251_yields_its_own_articles_with_cyrillic_hints() -> None:
    spider = make(PravdaSpider)
    requests = requests_of(spider.parse_feed(feed("rss_pravda_2020-09.xml", "https://www.pravda.com.ua/rus/rss/view_news/")))
    urls = [r.url for r in requests]
    assert len(urls) == 8 and all(u.startswith("https://www.pravda.com.ua/rus/news/2020/09/29/") for u in urls)
    # 7 epravda.com.ua, 4 life.pravda.com.ua (other publications) and a bare video id: skipped, counted
    assert spider.crawler.stats.get_value("newscrawl/feed_entries_skipped") == 12
    hint = requests[0].cb_kwargs["hint"]
    assert hint.title and all("а" <= ch.lower() <= "я" or not ch.isalpha() or ch in "іїєґё" for ch in hint.title)
    assert hint.published_raw.endswith("+0300")


@pytest.mark.parametrize(("name", "count"), [("rss_liga_2020-09.xml", 20), ("rss_liga_ru_2021-08-22.xml", 12)])
def test_liga_feeds(name: str, count: int) -> None:
    spider = make(LigaSpider)
    urls = [r.url for r in requests_of(spider.parse_feed(feed(name, "https://www.liga.net/news/all/rss.xml")))]
    assert len(urls) == count
    assert all(".liga.net/" in u for u in urls)
    assert spider.crawler.stats.get_value("newscrawl/feed_entries_skipped") is None


def test_ukranews_feed_with_default_namespace() -> None:
    spider = make(UkranewsSpider)
    requests = requests_of(spider.parse_feed(feed("rss_ukranews_2020-09.xml", "https://ukranews.com/rss/news_all_ru.xml")))
    assert [r.url for r in requests] == [
        "https://ukranews.com/news/728743-gubernator-hersonshhiny-gusev-kupil-kvartiru-v-kredit",
        "https://ukranews.com/news/728712-neurozhaj-zernovyh-v-hersonskoj-oblasti-sluchilsya-iz-za-suhogo-leta",
    ]
    assert requests[0].cb_kwargs["hint"].section == "Экономика"


def test_each_site_has_feeds_for_every_edition_and_robots_for_each_host() -> None:
    spider = make(UkrinformSpider)
    urls = [r.url for r in spider.first_requests()]
    assert "https://www.ukrinform.net/rss/block-lastnews" in urls and "https://www.ukrinform.jp/rss/block-lastnews" in urls
    assert sum(u.endswith("/robots.txt") for u in urls) == 9
    pravda = [r.url for r in make(PravdaSpider).first_requests()]
    assert [u for u in pravda if u.endswith("robots.txt")] == ["https://www.pravda.com.ua/robots.txt"]


def test_pravda_backfill_walks_each_editions_day_archive() -> None:
    urls = [r.url for r in make(PravdaSpider, editions="uk,ru", since="2020-09-28", until="2020-09-29").first_requests()]
    assert urls == [
        "https://www.pravda.com.ua/archives/date_28092020/",
        "https://www.pravda.com.ua/rus/archives/date_28092020/",
        "https://www.pravda.com.ua/archives/date_29092020/",
        "https://www.pravda.com.ua/rus/archives/date_29092020/",
    ]


ROBOTS = b"User-agent: *\nDisallow: /search\nSitemap: https://www.unn.com.ua/sitemap/index.xml\n"
INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://www.unn.com.ua/sitemap/news-2020-12-02.xml</loc></sitemap>
  <sitemap><loc>https://www.unn.com.ua/sitemap/news-2020-12-03.xml</loc></sitemap>
  <sitemap><loc>https://www.unn.com.ua/sitemap/news-2020-11.xml</loc></sitemap>
  <sitemap><loc>https://www.unn.com.ua/sitemap/tags.xml</loc><lastmod>2019-01-01</lastmod></sitemap>
  <sitemap><loc>https://www.unn.com.ua/sitemap/latest.xml</loc><lastmod>2020-12-03T20:00:00+02:00</lastmod></sitemap>
</sitemapindex>"""
NEWS = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://www.unn.com.ua/ru/news/1906059-parlament-moldovi</loc>
    <news:news><news:publication><news:name>УНН</news:name><news:language>ru</news:language></news:publication>
      <news:publication_date>2020-12-03T18:47:00+02:00</news:publication_date>
      <news:title>Парламент Молдовы ограничил полномочия Санду</news:title></news:news></url>
  <url><loc>https://www.unn.com.ua/ru/news/1905000-older-story</loc><lastmod>2020-11-20T10:00:00+02:00</lastmod></url>
  <url><loc>https://www.unn.com.ua/ru/news/1906100-undated-story</loc></url>
  <url><loc>https://www.unn.com.ua/ru/news/politics</loc><lastmod>2020-12-03T10:00:00+02:00</lastmod></url>
</urlset>""".encode()


def test_read_sitemap_index_and_news_sitemap() -> None:
    index = read_sitemap(INDEX)
    assert index.is_index and len(index.entries) == 5
    assert index.entries[4].lastmod == datetime(2020, 12, 3, 18, 0, tzinfo=timezone.utc)
    news = read_sitemap(NEWS)
    assert not news.is_index
    assert news.entries[0] == SitemapEntry(
        loc="https://www.unn.com.ua/ru/news/1906059-parlament-moldovi",
        published=datetime(2020, 12, 3, 16, 47, tzinfo=timezone.utc),
        title="Парламент Молдовы ограничил полномочия Санду",
    )
    assert read_sitemap(b"<html><body>not a sitemap</body></html>") is None
    assert read_sitemap(b"\x1f\x8b garbage") is None


@pytest.mark.parametrize(
    ("url", "period"),
    [
        ("https://x.ua/sitemap/news-2020-12-03.xml", (date(2020, 12, 3), date(2020, 12, 3))),
        ("https://x.ua/sitemap/2020/12/03.xml", (date(2020, 12, 3), date(2020, 12, 3))),
        ("https://x.ua/sitemap-20201203.xml.gz", (date(2020, 12, 3), date(2020, 12, 3))),
        ("https://x.ua/sitemap/news-2020-02.xml", (date(2020, 2, 1), date(2020, 2, 29))),
        ("https://x.ua/sitemap-2019.xml", (date(2019, 1, 1), date(2019, 12, 31))),
        ("https://x.ua/sitemap-posts-3.xml", None),
    ],
)
def test_period_in_sitemap_file_names(url: str, period: tuple[date, date] | None) -> None:
    assert period_in_url(url) == period


def test_window_rules_for_children_and_pages() -> None:
    window = Window(date(2020, 12, 3), date(2020, 12, 3))
    assert child_in_window(SitemapEntry("https://x.ua/s-2020-12-03.xml"), window)
    assert not child_in_window(SitemapEntry("https://x.ua/s-2020-12-02.xml"), window)
    assert child_in_window(SitemapEntry("https://x.ua/s-2020-12.xml"), window)
    assert not child_in_window(SitemapEntry("https://x.ua/tags.xml", lastmod=datetime(2019, 1, 1, tzinfo=timezone.utc)), window)
    assert child_in_window(SitemapEntry("https://x.ua/undated.xml"), window)
    assert page_in_window(SitemapEntry("https://x.ua/a", published=datetime(2020, 12, 3, 12, tzinfo=timezone.utc)), window)
    assert page_in_window(SitemapEntry("https://x.ua/a", lastmod=datetime(2020, 11, 3, tzinfo=timezone.utc)), window) is False
    assert page_in_window(SitemapEntry("https://x.ua/a"), window) is None


def test_unn_backfill_without_archive_reads_dated_sitemaps_only() -> None:
    spider = make(UnnSpider, editions="ru", since="2020-12-03")
    first = list(spider.first_requests())
    assert [r.url for r in first] == ["https://www.unn.com.ua/robots.txt"]
    robots = TextResponse(url=first[0].url, body=ROBOTS, request=first[0])
    (index_request,) = requests_of(first[0].callback(robots, **first[0].cb_kwargs))
    assert index_request.url == "https://www.unn.com.ua/sitemap/index.xml"
    children = requests_of(index_request.callback(XmlResponse(url=index_request.url, body=INDEX), **index_request.cb_kwargs))
    # the window's day file (dated: its undated pages count as in the window), and latest.xml,
    # modified in the window; not the other day, the other month, nor tags.xml (modified in 2019)
    assert [(r.url.rsplit("/", 1)[1], r.cb_kwargs["dated"]) for r in children] == [
        ("news-2020-12-03.xml", True), ("latest.xml", False)
    ]
    day, latest = children
    from_day = requests_of(day.callback(XmlResponse(url=day.url, body=NEWS), **day.cb_kwargs))
    # in a file dated in the window, an undated page counts as in it
    assert [r.url.rsplit("/", 1)[1] for r in from_day] == ["1906059-parlament-moldovi", "1906100-undated-story"]
    assert from_day[0].cb_kwargs["hint"].title == "Парламент Молдовы ограничил полномочия Санду"
    from_latest = requests_of(latest.callback(XmlResponse(url=latest.url, body=NEWS), **latest.cb_kwargs))
    assert [r.url.rsplit("/", 1)[1] for r in from_latest] == ["1906059-parlament-moldovi"]
    stats = spider.crawler.stats
    assert stats.get_value("newscrawl/sitemaps_outside_window") == 3
    assert stats.get_value("newscrawl/sitemap_entries_skipped") == 2  # the section page /ru/news/politics


def test_latest_crawl_takes_recent_sitemap_pages_and_falls_back_to_sitemap_xml() -> None:
    spider = make(UnnSpider, editions="ru")
    robots_request = [r for r in spider.first_requests() if r.url.endswith("robots.txt")][0]
    missing = TextResponse(url=robots_request.url, status=404, body=b"", request=robots_request)
    (fallback,) = requests_of(robots_request.callback(missing, **robots_request.cb_kwargs))
    assert fallback.url == "https://www.unn.com.ua/sitemap.xml"
    today = datetime.now(timezone.utc)
    recent = NEWS.replace(b"2020-12-03T18:47:00+02:00", today.isoformat().encode()).replace(
        b"2020-11-20T10:00:00+02:00", (today - timedelta(days=30)).isoformat().encode())
    found = requests_of(fallback.callback(XmlResponse(url=fallback.url, body=recent), **fallback.cb_kwargs))
    assert [r.url.rsplit("/", 1)[1] for r in found] == ["1906059-parlament-moldovi", "1906100-undated-story"]


def test_gzipped_and_unreadable_sitemaps() -> None:
    import gzip

    spider = make(UnnSpider, editions="ru", since="2020-12-03")
    request = spider.sitemap_request("https://www.unn.com.ua/s-2020-12-03.xml.gz", Window(date(2020, 12, 3), date(2020, 12, 3)),
                                     backfill=True, dated=True)
    gz = Response(url=request.url, body=gzip.compress(NEWS), request=request)
    assert len(requests_of(request.callback(gz, **request.cb_kwargs))) == 2
    broken = Response(url=request.url, body=b"\x1f\x8b\x08\x00 truncated", request=request)
    assert requests_of(request.callback(broken, **request.cb_kwargs)) == []
    assert spider.crawler.stats.get_value("newscrawl/sitemap_unreadable") == 1


def test_generic_spider_arguments(tmp_path: Any) -> None:
    with pytest.raises(SpiderArgumentError, match="needs -a url"):
        make(GenericSpider)
    with pytest.raises(SpiderArgumentError, match="not an http"):
        make(GenericSpider, url="file:///etc/passwd")
    listing = tmp_path / "sites.txt"
    listing.write_text("# sites\nhttps://a.example.ua/\n\nhttps://b.example.com/news/\n", encoding="utf-8")
    spider = make(GenericSpider, url="https://c.example.org/", urls_file=str(listing))
    assert spider.allowed_domains == ["c.example.org", "a.example.ua", "b.example.com"]
    first = [r.url for r in spider.first_requests()]
    assert first[:3] == ["https://c.example.org/", "https://a.example.ua/", "https://b.example.com/news/"]
    assert "https://b.example.com/robots.txt" in first
    assert spider.is_article_url("https://a.example.ua/politics/2024/05/01/some-story/")
    assert spider.is_article_url("https://news.a.example.ua/world/1906059-story")
    assert not spider.is_article_url("https://a.example.ua/tags/politics/")
    assert not spider.is_article_url("https://other.example.net/politics/1906059-story")
    assert not spider.is_article_url("https://a.example.ua/images/12345.jpg")
