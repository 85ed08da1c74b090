"""Security: where the crawler may go (SSRF guard), plain-text storage, secrets never logged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from conftest import FILES, ROOT
from localsite import crawl_env
from newscrawl.items import Image
from newscrawl.parser import GenericParser
from newscrawl.safety import SafeTargets, UnsafeRequest, is_internal
from newscrawl.storage import redact_uri
from pipelines.validate import ValidatePipeline
from spiders.generic import GenericSpider
from spiders.unian import UnianSpider


def guard(spider_cls: type, settings: dict | None = None, **kwargs: str) -> SafeTargets:
    crawler = get_crawler(spider_cls, settings or {})
    crawler.spider = spider_cls.from_crawler(crawler, **kwargs)
    return SafeTargets(crawler)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "scheme"),
        ("data:text/html,<h1>x</h1>", "scheme"),
        ("ftp://news.example.ua/a.html", "scheme"),
        ("http://127.0.0.1:27017/", "private_address"),
        ("http://localhost:6379/", "private_address"),
        ("http://169.254.169.254/latest/meta-data/", "private_address"),
        ("http://10.1.2.3/admin", "private_address"),
        ("http://192.168.0.1/", "private_address"),
        ("http://[::1]:8080/", "private_address"),
        ("http://[::ffff:127.0.0.1]/", "private_address"),
        ("http://0.0.0.0/", "private_address"),
    ],
)
def test_links_from_pages_cannot_reach_private_addresses_or_other_schemes(url: str, reason: str) -> None:
    safe = guard(GenericSpider, url="https://news.example.ua/")
    with pytest.raises(UnsafeRequest, match=reason):
        safe.process_request(Request(url))
    assert safe.crawler.stats.get_value(f"newscrawl/unsafe/{reason}") == 1


def test_hosts_the_operator_named_are_allowed() -> None:
    assert guard(GenericSpider, url="http://127.0.0.1:8080/").process_request(Request("http://127.0.0.1:8080/a-b-c-d")) is None
    configured = guard(GenericSpider, {"NEWSCRAWL_ALLOW_PRIVATE_HOSTS": ["10.1.2.3"]}, url="https://news.example.ua/")
    assert configured.process_request(Request("http://10.1.2.3/story-123456")) is None
    # a site spider's edition hosts are named by its declaration: no DNS lookup is made for them
    assert guard(UnianSpider).process_request(Request("https://www.unian.info/world/x-12149817.html")) is None
    assert not is_internal("8.8.8.8") and is_internal("100.64.0.1") and is_internal("fd00::1")


def test_file_and_data_download_handlers_are_off() -> None:
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newscrawl.settings")
    handlers = get_project_settings().getdict("DOWNLOAD_HANDLERS")
    assert {handlers[s] for s in ("file", "data", "ftp", "s3")} == {None}


def test_stored_text_is_plain_text() -> None:
    """JSON-LD and feeds often carry HTML; none of it survives into the stored fields."""
    html = (
        "<html lang='en'><head><script type='application/ld+json'>"
        + json.dumps({"@type": "NewsArticle", "headline": "Big <b>news</b> &amp; more",
                      "datePublished": "2024-05-01T10:00:00Z", "author": {"@type": "Person", "name": "<i>Ann Lee</i>"},
                      "description": "<p>The lead <img src=x onerror=alert(1)></p>",
                      "articleBody": "<p>First paragraph of the story, long enough to be a body.</p>"
                                     "<script>alert('x')</script><p>Second <a href='javascript:alert(1)'>link</a>.</p>"}
                     ).replace("</", "<\\/")  # as sites write it inside <script>
        + "</script></head><body></body></html>"
    )
    article = GenericParser.parse(html, "https://news.example.org/2024/05/01/story/",
                                  fetched_at=datetime(2024, 5, 2, tzinfo=timezone.utc))
    article.images = [Image("https://news.example.org/a.jpg", caption="<em>Caption</em>", credit="<b>AP</b>")]
    stored = ValidatePipeline(check_language=False).process_item(article)
    fields = [stored.title, stored.lead, stored.body, *stored.authors, stored.images[0].caption, stored.images[0].credit]
    assert not any("<" in text or "alert" in text for text in fields), fields
    assert stored.title == "Big news & more" and stored.authors == ["Ann Lee"]
    assert "First paragraph of the story" in stored.body and "Second link." in stored.body


def test_redis_password_is_never_logged(tmp_path: Path, mongo_uri: str) -> None:
    """A password in NEWSCRAWL_REDIS_URL (the local Redis has none, so the crawl fails): not in the log."""
    log = tmp_path / "crawl.log"
    env = crawl_env(tmp_path, mongo_uri, "sec", NEWSCRAWL_REDIS_URL="redis://:hunter2-secret@127.0.0.1:6379/15")
    subprocess.run([sys.executable, "-m", "scrapy", "crawl", "unian", "-s", f"LOG_FILE={log}",
                    "-s", f"NEWSCRAWL_REPLAY={FILES / 'unian/unian-sample.warc.gz'}"],
                   cwd=ROOT, env=env, timeout=120, capture_output=True)
    text = log.read_text(encoding="utf-8")
    assert "hunter2" not in text
    assert redact_uri("redis://:hunter2-secret@127.0.0.1:6379/15") == "redis://:***@127.0.0.1:6379/15"


def test_a_start_request_names_its_host() -> None:
    safe = guard(GenericSpider, url="https://news.example.ua/")
    start = Request("http://127.0.0.1:8080/", meta={"is_start_request": True})
    assert safe.process_request(start) is None
    assert safe.process_request(Request("http://127.0.0.1:8080/story-1234567")) is None
    with pytest.raises(UnsafeRequest):
        safe.process_request(Request("http://10.0.0.7/from-a-page"))
