"""Security: where the crawler may go (SSRF guard), who may say which URL an article has, URL
fields, plain-text storage, secrets never logged, and the tests' own network guard.

Crawls of hostile sites are in test_hostile_sites.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from itemadapter import ItemAdapter
from scrapy import Request
from scrapy.utils.test import get_crawler

from conftest import FILES, ROOT
from localsite import QuietHandler, assert_stayed_local, crawl_env, guarded_env, serving
from newscrawl.extract.items import Article, Image
from newscrawl.extract.parser import GenericParser
from newscrawl.crawl.rendering import BrowserGuard
from newscrawl.crawl.safety import SafeTargets, TargetPolicy, UnsafeRequest, canonical_host, is_internal
from newscrawl.store.database import redact_uri
from newscrawl.extract.urls import registrable_domain, same_site
from newscrawl.extract.clean import keep_http_urls
from pipelines.clean import CleanPipeline
from spiders.generic import GenericSpider
from spiders.pravda import PravdaParser
from spiders.unian import UnianParser, UnianSpider

FETCHED = datetime(2024, 5, 2, tzinfo=timezone.utc)


def guard(spider_cls: type, settings: dict | None = None, **kwargs: str) -> SafeTargets:
    crawler = get_crawler(spider_cls, settings or {})
    crawler.spider = spider_cls.from_crawler(crawler, **kwargs)
    return SafeTargets(crawler, TargetPolicy(crawler))


def check(safe: SafeTargets, request: Request) -> None:
    """Run the middleware's (asynchronous) check of one request."""
    asyncio.run(safe.process_request(request))


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
        ("http://127.0.0.2:8080/", "private_address"),
        ("http://2130706433/", "private_address"),  # 127.0.0.1 written as a number
        ("http://LocalHost:6379/", "private_address"),
    ],
)
def test_links_from_pages_cannot_reach_private_addresses_or_other_schemes(url: str, reason: str) -> None:
    safe = guard(GenericSpider, url="https://news.example.ua/")
    with pytest.raises(UnsafeRequest, match=reason):
        check(safe, Request(url))
    assert safe.crawler.stats.get_value(f"newscrawl/unsafe/{reason}") == 1


#: spellings of internal hosts that resolvers and browsers accept, and the host each is
HOST_FORMS = [
    ("http://169.254.169.254./latest/meta-data/", "169.254.169.254"),  # trailing dot
    ("http://169.254.169.254../", "169.254.169.254"),
    ("http://2852039166/", "169.254.169.254"),  # decimal
    ("http://0xA9FEA9FE/", "169.254.169.254"),  # hex
    ("http://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254"),
    ("http://0251.0376.0251.0376/", "169.254.169.254"),  # octal
    ("http://0251.254.0xa9.254/", "169.254.169.254"),  # mixed
    ("http://169.254.43518/", "169.254.169.254"),  # shortened: the last part fills the bytes left
    ("http://169.16689662/", "169.254.169.254"),
    ("http://127.1:6379/", "127.0.0.1"),
    ("http://0/", "0.0.0.0"),
    ("http://0.0.0.0:27017/", "0.0.0.0"),
    ("http://[::]/", "::"),
    ("http://[::1]:6379/", "::1"),
    ("http://[::ffff:169.254.169.254]/", "::ffff:a9fe:a9fe"),  # IPv4-mapped
    ("http://[::ffff:a9fe:a9fe]/", "::ffff:a9fe:a9fe"),
    ("http://[0:0:0:0:0:ffff:7f00:1]/", "::ffff:7f00:1"),
    ("http://[::ffff:0:a9fe:a9fe]/", "::ffff:0:a9fe:a9fe"),  # IPv4-translated
    ("http://[::a9fe:a9fe]/", "::a9fe:a9fe"),  # IPv4-compatible
    ("http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe"),  # NAT64
    ("http://[2002:a9fe:a9fe::1]/", "2002:a9fe:a9fe::1"),  # 6to4
    ("http://[fe80::1%25eth0]/", "fe80::1"),  # link-local with a zone
    ("http://%31%36%39.254.169.254/", "169.254.169.254"),  # percent-escapes
    ("http://１６９．２５４．１６９．２５４/", "169.254.169.254"),  # full-width digits and dots (IDNA)
    ("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:6379/", "localhost"),  # IDNA maps the circled letters
    ("http://LOCALHOST./", "localhost"),  # case and trailing dot
]


@pytest.mark.parametrize(("url", "host"), HOST_FORMS, ids=[url for url, _ in HOST_FORMS])
def test_every_spelling_of_an_internal_host_is_refused(url: str, host: str) -> None:
    """Each form is read as the host the network would reach, and refused, with no DNS lookup for
    an address; a request, a redirect of a start request and a browser request alike."""
    assert canonical_host(urlsplit(url).hostname or "") == host
    safe = guard(GenericSpider, url="https://news.example.ua/")
    start = Request("https://news.example.ua/", meta={"is_start_request": True}, dont_filter=True)
    redirect = start.replace(url=url, meta={**start.meta, "redirect_urls": [start.url], "redirect_times": 1})
    for request in (Request(url), redirect):
        with pytest.raises(UnsafeRequest, match="private_address"):
            check(safe, request)
    assert asyncio.run(BrowserGuard(safe.policy, safe.crawler.stats).refused(url))
    assert safe.crawler.stats.get_value("newscrawl/unsafe/private_address") == 3


@pytest.mark.parametrize("url", ["http://256.1.1.1/", "http://0x100000000/", "http://1.2.3.4.5/", "http://08.1.1.1/",
                                 "http://169.254.65536/", "http://%ff.example/"])
def test_a_host_no_network_can_read_is_refused(url: str) -> None:
    """A number that is no IPv4 address, or a name IDNA cannot write: refused as such, unresolved."""
    safe = guard(GenericSpider, url="https://news.example.ua/")
    with pytest.raises(UnsafeRequest, match="invalid_host"):
        check(safe, Request(url))
    assert safe.crawler.stats.get_value("newscrawl/unsafe/invalid_host") == 1


def test_named_hosts_are_compared_in_their_canonical_form() -> None:
    """The operator's 127.0.0.1 is the same host written as 127.1 or with a trailing dot; a public
    host in capitals and IDNA is the host itself."""
    safe = guard(GenericSpider, url="http://127.0.0.1:8080/")
    for url in ("http://127.1:8080/a-b-c-d", "http://127.0.0.1.:8080/a-b-c-d", "http://2130706433:8080/a-b-c-d"):
        check(safe, Request(url))
    assert canonical_host("Пример.УКР.") == "xn--e1afmkfd.xn--j1amh" == canonical_host("xn--e1afmkfd.xn--j1amh")
    assert canonical_host("WWW.Unian.NET.") == "www.unian.net"
    assert not is_internal("64:ff9b::808:808") and not is_internal("2002:808:808::1")  # public IPv4 inside


def test_hosts_the_operator_named_are_allowed() -> None:
    check(guard(GenericSpider, url="http://127.0.0.1:8080/"), Request("http://127.0.0.1:8080/a-b-c-d"))
    configured = guard(GenericSpider, {"NEWSCRAWL_ALLOW_PRIVATE_HOSTS": ["10.1.2.3"]}, url="https://news.example.ua/")
    check(configured, Request("http://10.1.2.3/story-123456"))
    # a site spider's edition hosts are named by its declaration: no DNS lookup is made for them
    check(guard(UnianSpider), Request("https://www.unian.info/world/x-12149817.html"))
    assert not is_internal("8.8.8.8") and is_internal("100.64.0.1") and is_internal("fd00::1")


def test_file_and_data_download_handlers_are_off() -> None:
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newscrawl.settings")
    handlers = get_project_settings().getdict("DOWNLOAD_HANDLERS")
    assert {handlers[s] for s in ("file", "data", "ftp", "s3")} == {None}


def json_ld_page(body: str) -> str:
    """A page whose article is all in its JSON-LD, HTML in every field (the body's: ``body``)."""
    return (
        "<html lang='en'><head><script type='application/ld+json'>"
        + json.dumps({"@type": "NewsArticle", "headline": "Big <b>news</b> &amp; more",
                      "datePublished": "2024-05-01T10:00:00Z", "author": {"@type": "Person", "name": "<i>Ann Lee</i>"},
                      "description": "<p>The lead <img src=x onerror=alert(1)></p>", "articleBody": body}
                     ).replace("</", "<\\/")  # as sites write it inside <script>
        + "</script></head><body></body></html>"
    )


def stored_from(html: str) -> Article:
    article = GenericParser.parse(html, "https://news.example.org/2024/05/01/story/",
                                  fetched_at=datetime(2024, 5, 2, tzinfo=timezone.utc))
    article.images = [Image("https://news.example.org/a.jpg", caption="<em>Caption</em>", credit="<b>AP</b>")]
    return CleanPipeline(check_language=False).process_item(article)


def test_stored_text_is_plain_text() -> None:
    """JSON-LD and feeds often carry HTML; none of it survives into the stored fields (a body of
    two short paragraphs is shorter than an article's and is no body)."""
    short = ("<p>First paragraph of the story, long enough to be a body.</p>"
             "<script>alert('x')</script><p>Second <a href='javascript:alert(1)'>link</a>.</p>")
    stored = stored_from(json_ld_page(short))
    fields = [stored.title, stored.lead, *stored.authors, stored.images[0].caption, stored.images[0].credit]
    assert not any("<" in text or "alert" in text for text in fields), fields
    assert stored.title == "Big news & more" and stored.authors == ["Ann Lee"] and stored.body is None
    long = ("<p>First paragraph of the story: the council met on Tuesday and approved the money for the new "
            "bridge over the river.</p><p>Second <a href='javascript:alert(1)'>link</a> <b>here</b>.</p>")
    body = stored_from(json_ld_page(long)).body
    assert body is not None and "<" not in body and "javascript" not in body
    assert "approved the money for the new bridge" in body and "Second link here." in body


def test_a_scripts_text_in_a_json_ld_body_is_not_stored() -> None:
    body = ("<p>First paragraph of the story: the council met on Tuesday and approved the money for the new "
            "bridge over the river.</p><script>alert('x')</script><p>Second paragraph.</p>")
    assert "alert" not in (stored_from(json_ld_page(body)).body or "")


@pytest.mark.crawl
def test_redis_password_is_never_logged(tmp_path: Path, mongo_uri: str) -> None:
    """A password in NEWSCRAWL_REDIS_URL is in no log line (the crawl's own idle wait shortened)."""
    log = tmp_path / "crawl.log"
    env = crawl_env(tmp_path, mongo_uri, "sec", NEWSCRAWL_REDIS_URL="redis://:hunter2-secret@127.0.0.1:6379/15",
                    NEWSCRAWL_REDIS_IDLE_SECONDS="0.5")
    subprocess.run([sys.executable, "-m", "scrapy", "crawl", "unian", "-s", f"LOG_FILE={log}",
                    "-s", f"NEWSCRAWL_REPLAY={FILES / 'unian/unian-sample.warc.gz'}"],
                   cwd=ROOT, env=env, timeout=600, capture_output=True)
    text = log.read_text(encoding="utf-8")
    assert "hunter2" not in text
    assert redact_uri("redis://:hunter2-secret@127.0.0.1:6379/15") == "redis://:***@127.0.0.1:6379/15"


def test_a_start_request_names_its_host_but_its_redirects_are_judged_on_their_own() -> None:
    safe = guard(GenericSpider, url="https://news.example.ua/")
    start = Request("http://127.0.0.1:8080/", meta={"is_start_request": True}, dont_filter=True)
    check(safe, start)
    check(safe, Request("http://127.0.0.1:8080/story-1234567"))
    with pytest.raises(UnsafeRequest):
        check(safe, Request("http://10.0.0.7/from-a-page"))
    # what RedirectMiddleware makes of a start request: its meta and dont_filter, another URL
    redirect = start.replace(url="http://169.254.169.254/latest/meta-data/",
                             meta={**start.meta, "redirect_urls": [start.url], "redirect_times": 1})
    assert redirect.meta["is_start_request"] and redirect.dont_filter
    for _ in range(2):  # refused, and the host was not named by the attempt
        with pytest.raises(UnsafeRequest, match="private_address"):
            check(safe, redirect)
    with pytest.raises(UnsafeRequest):
        check(safe, Request("http://169.254.169.254/latest/user-data"))
    assert "169.254.169.254" not in safe.policy.named_hosts()
    assert safe.crawler.stats.get_value("newscrawl/unsafe/private_address") == 4


def test_the_resolver_checks_the_address_it_connects_to(tmp_path: Path) -> None:
    """DNS rebinding: a host that passed the middleware and then resolves to an internal address
    is refused by the resolver Scrapy's HTTP client uses (a Twisted Agent here, the same path),
    the site never sees the request, and the host stays refused for the rest of the crawl."""
    hits: list[str] = []

    class PageOnTwoHosts(QuietHandler):
        def do_GET(self) -> None:
            hits.append(f"{self.headers['Host'].split(':')[0]}{self.path}")
            self.reply(200, b"ok", "text/plain")

    script = textwrap.dedent("""
        import asyncio, json, sys
        from twisted.internet import asyncioreactor
        asyncioreactor.install()
        from twisted.internet import defer, reactor
        from twisted.web.client import Agent, readBody
        from scrapy.utils.test import get_crawler
        from newscrawl.crawl.safety import PublicAddressResolver, TargetPolicy

        port = sys.argv[1]
        policy = TargetPolicy(get_crawler(settings_dict={"NEWSCRAWL_ALLOW_PRIVATE_HOSTS": ["127.0.0.1"]}))
        PublicAddressResolver(reactor, cache_size=100, timeout=30).install_on_reactor()
        agent = Agent(reactor)

        @defer.inlineCallbacks
        def main():
            result = {}
            for key, host in (("named", "127.0.0.1"), ("unnamed", "localhost")):
                try:
                    response = yield agent.request(b"GET", f"http://{host}:{port}/page".encode())
                    result[key] = (yield readBody(response)).decode()
                except Exception as exc:
                    result[key] = type(exc).__name__
            result["remembered"] = sorted(policy.refused_at_connect)
            retry = policy.refusal(f"http://localhost:{port}/again")
            result["retry"] = yield defer.Deferred.fromFuture(asyncio.ensure_future(retry))
            print(json.dumps(result))
            reactor.stop()

        reactor.callWhenRunning(main)
        reactor.run()
    """)
    record = tmp_path / "netguard.jsonl"
    env = guarded_env({**os.environ, "PYTHONPATH": str(ROOT)}, record)
    with serving(PageOnTwoHosts) as base:
        done = subprocess.run([sys.executable, "-c", script, base.rsplit(":", 1)[1]], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"named": "ok", "unnamed": "DNSLookupError", "remembered": ["localhost"],
                      "retry": "private_address"}, done.stderr[-3000:]
    assert hits == ["127.0.0.1/page"]
    assert "refused to connect to localhost: it resolves to the internal address 127.0.0.1" in done.stderr
    assert "Traceback" not in done.stderr  # a refusal is a DNS error, not a failure of the resolver
    assert_stayed_local(record)


# -- who may say which URL an article has ----------------------------------------------------

STORY = "<p>" + " ".join(["The council approved the new bridge budget after a long debate on Tuesday."] * 4) + "</p>"


def page(head: str, body: str = STORY, lang: str = "en") -> str:
    return (f"<html lang='{lang}'><head><title>Bridge budget approved</title>"
            f"<meta property='og:title' content='Bridge budget approved'>{head}</head>"
            f"<body><article><h1>Bridge budget approved</h1>{body}</article></body></html>")


PRAVDA_URL = "https://www.pravda.com.ua/news/2024/05/01/7453000/"


@pytest.mark.parametrize("declares", ["<link rel='canonical' href='{url}'>", "<meta property='og:url' content='{url}'>"])
def test_a_page_cannot_name_another_sites_article_as_its_own(declares: str) -> None:
    html = page(declares.format(url=PRAVDA_URL) + f"<link rel='alternate' hreflang='uk' href='{PRAVDA_URL}'>")
    article = GenericParser.parse(html, "https://copycat.example.net/2024/05/01/story/", fetched_at=FETCHED)
    assert article.canonical_url == "https://copycat.example.net/2024/05/01/story/"
    assert article.claimed_canonical == PRAVDA_URL
    assert article.translations == {}


def test_the_same_site_names_its_canonical_and_translations() -> None:
    html = page("<link rel='canonical' href='https://www.example.co.uk/news/story-1'>"
                "<link rel='alternate' hreflang='de' href='https://de.example.co.uk/news/story-1'>")
    article = GenericParser.parse(html, "https://m.example.co.uk/news/story-1?utm_source=x", fetched_at=FETCHED)
    assert article.canonical_url == "https://www.example.co.uk/news/story-1" and article.claimed_canonical is None
    assert article.translations == {"de": "https://de.example.co.uk/news/story-1"}
    # a site spider's editions are one site though their domains differ (unian.ua and unian.info)
    unian = UnianParser.parse(page("<link rel='alternate' hreflang='uk' href='https://www.unian.ua/world/x-12149817.html'>"
                                   "<link rel='canonical' href='https://www.unian.net/world/x-12149817.html'>"),
                              "https://www.unian.info/world/x-12149817.html", fetched_at=FETCHED)
    assert unian.canonical_url == "https://www.unian.net/world/x-12149817.html"
    assert unian.translations == {"uk": "https://www.unian.ua/world/x-12149817.html"}
    # ...but not another site's
    pravda = PravdaParser.parse(page("<link rel='canonical' href='https://www.unian.ua/world/x-12149817.html'>"),
                                PRAVDA_URL, fetched_at=FETCHED)
    assert pravda.canonical_url == PRAVDA_URL and pravda.claimed_canonical == "https://www.unian.ua/world/x-12149817.html"


def test_registrable_domains() -> None:
    assert registrable_domain("news.bbc.co.uk") == "bbc.co.uk"
    assert registrable_domain("www.pravda.com.ua") == "pravda.com.ua"
    assert registrable_domain("alice.github.io") != registrable_domain("bob.github.io")  # a private suffix: two owners
    assert registrable_domain("127.0.0.1") == "127.0.0.1" and registrable_domain("localhost") == "localhost"
    assert not same_site("http://localhost:8000/a", "http://127.0.0.1:8000/a")
    assert not same_site("https://pravda.com.ua.evil.example/a", PRAVDA_URL)
    assert not same_site("javascript:alert(1)", PRAVDA_URL)


def test_only_http_urls_are_kept_in_url_fields() -> None:
    html = page(
        "<link rel='canonical' href='javascript:alert(3)'>"
        "<link rel='alternate' hreflang='de' href='javascript:alert(2)'>"
        "<link rel='alternate' hreflang='fr' href='https://news.example.org/fr/story/'>"
        "<script type='application/ld+json'>" + json.dumps({
            "@type": "NewsArticle", "headline": "Bridge budget approved",
            "image": ["data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "javascript:alert(1)",
                      "/images/bridge.jpg"]}) + "</script>"
    )
    article = GenericParser.parse(html, "https://news.example.org/2024/05/01/story/", fetched_at=FETCHED)
    assert article.canonical_url == "https://news.example.org/2024/05/01/story/" and article.claimed_canonical is None
    assert [image.url for image in article.images] == ["https://news.example.org/images/bridge.jpg"]
    assert article.translations == {"fr": "https://news.example.org/fr/story/"}
    assert article.unsafe_urls_dropped == 4
    # an item built elsewhere gets the same treatment in the clean pipeline, before its identity is taken
    item = Article(url="https://news.example.org/a", site="x", canonical_url="javascript:alert(3)",
                   claimed_canonical="data:,x", images=[Image("javascript:alert(1)"), Image("https://news.example.org/i.jpg")],
                   translations={"de": "vbscript:x", "fr": "https://news.example.org/fr/a"})
    assert keep_http_urls(ItemAdapter(item)) == 4
    assert item.canonical_url is None and item.claimed_canonical is None
    assert [image.url for image in item.images] == ["https://news.example.org/i.jpg"]
    assert item.translations == {"fr": "https://news.example.org/fr/a"}


# -- the tests' network guard ---------------------------------------------------------------------

def test_the_network_guard_records_and_refuses_everything_beyond_loopback(tmp_path: Path) -> None:
    record = tmp_path / "netguard.jsonl"
    script = textwrap.dedent("""
        import socket
        print(socket.getaddrinfo("localhost", 80)[0][4][0])
        for attempt in (lambda: socket.create_connection(("169.254.169.254", 80), timeout=5),
                        lambda: socket.getaddrinfo("example.org", 443),
                        lambda: socket.gethostbyname("metadata.google.internal")):
            try:
                attempt()
                print("let through")
            except OSError:
                print("refused")
    """)
    done = subprocess.run([sys.executable, "-c", script], env=guarded_env(dict(os.environ), record),
                          capture_output=True, text=True, timeout=600, check=True)
    assert done.stdout.split() == ["127.0.0.1", "refused", "refused", "refused"]
    targets = [json.loads(line)["target"] for line in record.read_text(encoding="utf-8").splitlines()]
    assert targets == ["169.254.169.254:80", "example.org", "metadata.google.internal"]
    with pytest.raises(AssertionError, match="reached beyond loopback"):
        assert_stayed_local(record)
    with pytest.raises(AssertionError, match="never ran"):
        assert_stayed_local(tmp_path / "absent.jsonl")
