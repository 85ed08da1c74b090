"""``scrapy crawl generic`` against hostile local sites, every crawl under the recording network guard.

- robots.txt files and home pages that redirect to cloud metadata (169.254.169.254), a private
  network (10.0.0.1), a loopback address nobody named (127.0.0.2, where a bait server listens) and
  a name resolving to loopback that nobody named (``localhost`` when 127.0.0.1 was named);
- a page on one host ("localhost") declaring another host's stored article (127.0.0.1) as its
  canonical URL, ``og:url`` and translation;
- a page whose URL fields are ``javascript:`` and ``data:`` URLs;
- a script-built page whose scripts and images reach for internal addresses in the browser, and
  a bare browser page that redirects on its site and opens a WebSocket to an internal address.

The sites are synthetic pages served on loopback; the database is the session's nx-27017 (or
``MONGO_URI``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from playwright.async_api import async_playwright
from pymongo import MongoClient
from scrapy import Request
from scrapy.utils.test import get_crawler

from localsite import QuietHandler, crawl_env, local_site, port_of, run_crawl, serving, stat
from newscrawl.crawl.rendering import BROWSER_ARGS, BrowserGuard
from newscrawl.crawl.safety import TargetPolicy
from newscrawl.extract.identity import url_key

CHROMIUM = Path("/usr/bin/chromium")


class Hostile(QuietHandler):
    """Answers ``routes[(host:port, path)]`` (status, body, headers); records every request."""

    routes: ClassVar[dict[tuple[str, str], tuple[int, bytes, dict[str, str]]]] = {}
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        host = self.headers.get("Host", "")
        type(self).seen.append(f"{host}{self.path}")
        found = self.routes.get((host, self.path))
        if found is None:
            self.send_error(404)
            return
        status, body, headers = found
        self.reply(status, body, **headers)


class Bait(QuietHandler):
    """An internal service nobody named (127.0.0.2): it must never be asked anything."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Bait.seen.append(self.path)
        self.reply(200, b"secret", "text/plain")

    @classmethod
    def prepare(cls) -> None:
        cls.seen = []


def handler(name: str, base: type[QuietHandler] = Hostile) -> type[Any]:
    """A fresh subclass (its own routes and request log)."""
    return type(name, (base,), {"routes": {}, "seen": []})


def redirect(location: str) -> tuple[int, bytes, dict[str, str]]:
    return 302, b"", {"Location": location}


def html(body: str | bytes) -> tuple[int, bytes, dict[str, str]]:
    return 200, body.encode() if isinstance(body, str) else body, {}


def home(*links: str) -> tuple[int, bytes, dict[str, str]]:
    anchors = "".join(f'<a href="{link}">story</a>' for link in links)
    return html(f"<html><body><h1>Home</h1>{anchors}</body></html>")


def article(title: str, paragraphs: list[str], head: str = "", published: str = "2024-05-01T09:00:00+00:00",
            **ld_fields: Any) -> bytes:
    """An English article page (JSON-LD with the date and ``ld_fields``, ``<h1>``, paragraphs in ``<article>``)."""
    ld = json.dumps({"@type": "NewsArticle", "headline": title, "datePublished": published, **ld_fields})
    text = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!doctype html><html lang='en'><head><title>{title}</title>"
            f"<script type='application/ld+json'>{ld}</script>{head}</head>"
            f"<body><article><h1>{title}</h1>{text}</article></body></html>").encode()


BRIDGE = [
    "The city council approved the money for the new bridge over the river after a debate that lasted most of Tuesday.",
    "Engineers say the old crossing has carried twice the traffic it was built for, and repairs no longer pay off.",
    "Work should start in the spring and take three years, during which ferries will carry pedestrians and cyclists.",
    "Residents of both banks welcomed the decision, though shop owners near the old bridge fear a quiet few years.",
]
FAKE = [
    "An anonymous page claims that the bridge decision was reversed late at night by a handful of council members.",
    "It quotes no one by name, shows no documents and links to no record of any vote held after the public session.",
    "Such pages copy the look of real news sites and hope that aggregators will take their word for where they belong.",
    "The council's own minutes, published the next morning, list the approval and nothing about any later reversal.",
]


def crawl(tmp_path: Path, env: dict[str, str], name: str, *args: str) -> str:
    """Run ``scrapy crawl generic`` guarded (record: ``<name>.netguard``) to its end; its log."""
    done = run_crawl("scrapy", "crawl", "generic", *args, env=env, log=tmp_path / f"{name}.log", expect=None,
                     settings={"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}, guard=tmp_path / f"{name}.netguard",
                     timeout=300)
    assert "Dumping Scrapy stats" in done.log, done.tail()
    return done.log


bait = local_site(Bait, address="127.0.0.2")


@pytest.mark.crawl
@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/robots.txt",
                                    "{bait}/robots.txt", "http://localhost:{port}/internal"])
def test_redirects_to_internal_addresses_are_refused_at_every_hop(tmp_path: Path, mongo_uri: str, bait: str,
                                                                  target: str) -> None:
    """The site the operator named (127.0.0.1) redirects inward: robots.txt — asked for by Scrapy's
    robots check and by the spider (a start request, ``dont_filter``) — and a feed path the spider
    tries. The targets: cloud metadata, a private network, a loopback address nobody named (the
    bait server) and a name nobody named that resolves to loopback. Nothing is fetched there,
    nothing leaves loopback, and each refusal is counted."""
    site = handler("Redirecting")
    with serving(site) as base:
        own, port = base.removeprefix("http://"), base.rsplit(":", 1)[1]
        target = target.format(bait=bait, port=port)
        site.routes.update({(own, "/robots.txt"): redirect(target), (own, "/feed"): redirect(target),
                            (own, "/"): home(), (f"localhost:{port}", "/internal"): html("internal")})
        env = crawl_env(tmp_path, mongo_uri, "hostile", NEWSCRAWL_PLAYWRIGHT="0")
        log = crawl(tmp_path, env, "redirects", "-a", f"url={base}/")
    assert Bait.seen == []
    assert not [seen for seen in site.seen if seen.startswith("localhost")], site.seen
    assert site.seen.count(f"{own}/robots.txt") == 2 and f"{own}/feed" in site.seen  # every redirect was answered
    assert f"refused private address: {target} (redirected from {base}/robots.txt)" in log, log[-4000:]
    # both robots.txt redirects refused by the guard (the spider's would have been let through as a
    # start request's); the feed's never scheduled, as Scrapy keeps a spider's links on its domains
    assert stat(log, "newscrawl/unsafe/private_address") == 2
    assert stat(log, "offsite/filtered") == 1


@pytest.mark.crawl
def test_redirects_to_other_spellings_of_internal_addresses_are_refused_without_the_offsite_filter(
        tmp_path: Path, mongo_uri: str, bait: str) -> None:
    """Scrapy's offsite filter is off, so only the project's guard stands. robots.txt (both
    requests), every feed path the spider tries and two article pages redirect to internal
    addresses spelt as resolvers and browsers read them: a trailing dot, decimal, hex, octal,
    shortened, IPv4-mapped, ``0.0.0.0``, ``[::]`` and the bait server as ``127.2``. Every hop is
    refused and counted; nothing is looked up or reached (nor any robots.txt of those hosts)."""
    from newscrawl import settings as project_settings

    bait_port = bait.rsplit(":", 1)[1]
    site = handler("Spellings")
    with serving(site) as base:
        own, port = base.removeprefix("http://"), base.rsplit(":", 1)[1]
        targets = {
            "/robots.txt": "http://169.254.169.254./latest/meta-data/",
            "/feed": "http://169.254.169.254./",
            "/rss": "http://2852039166/latest/",
            "/rss.xml": "http://0xA9FEA9FE/latest/",
            "/feed.xml": "http://0251.0376.0251.0376/latest/",
            "/atom.xml": "http://169.254.43518/latest/",
            "/index.xml": "http://[::ffff:169.254.169.254]/latest/",
            "/rss/all.xml": f"http://127.2:{bait_port}/",
            "/2024/05/01/zero-address-story/": f"http://0.0.0.0:{port}/",
            "/2024/05/02/unspecified-address-story/": f"http://[::]:{port}/",
        }
        site.routes.update({(own, path): redirect(target) for path, target in targets.items()})
        site.routes[(own, "/")] = home(*[path for path in targets if path.startswith("/2024/")])
        middlewares = {**project_settings.DOWNLOADER_MIDDLEWARES, "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None}
        env = crawl_env(tmp_path, mongo_uri, "spellings", NEWSCRAWL_PLAYWRIGHT="0")
        log = crawl(tmp_path, env, "spellings", "-a", f"url={base}/", "-s", f"DOWNLOADER_MIDDLEWARES={json.dumps(middlewares)}")
    assert Bait.seen == []
    assert site.seen.count(f"{own}/robots.txt") == 2 and all(f"{own}{path}" in site.seen for path in targets)
    assert not [seen for seen in site.seen if not seen.startswith(own)], site.seen  # 0.0.0.0 and [::] reach no one
    for path, target in targets.items():
        written = Request(target).url  # as Scrapy writes it (the host in lower case)
        assert f"refused private address: {written} (redirected from {base}{path})" in log, (written, log[-4000:])
    assert stat(log, "newscrawl/unsafe/private_address") == len(targets) + 1  # robots.txt twice
    assert stat(log, "offsite/filtered") == 0
    assert "robots.txt" not in "".join(line for line in log.splitlines() if "169.254" in line and "refused" not in line)


def crawl_storing(tmp_path: Path, env: dict[str, str], name: str, url: str) -> str:
    return crawl(tmp_path, env, name, "-a", f"url={url}", "-s", "NEWSCRAWL_SITEMAPS=0")


class TwoHosts(Hostile):
    """One server, two hosts: 127.0.0.1 and localhost (the operator names each in its own crawl)."""

    @classmethod
    def prepare(cls) -> None:
        cls.routes, cls.seen = {}, []

    @classmethod
    def opened(cls, base: str) -> tuple[type[TwoHosts], int]:
        """The handler (its routes and request log) and the port."""
        return cls, port_of(base)


two_hosts = local_site(TwoHosts)


@pytest.mark.crawl
def test_a_page_on_another_host_cannot_overwrite_a_stored_article(
    tmp_path: Path, mongo_uri: str, two_hosts: tuple[type[Any], int]
) -> None:
    """127.0.0.1 publishes an article; later a page on localhost declares that article's URL as its
    canonical URL, og:url and translation. The stored article stays as it was (title, body, site,
    revision, translations); the claim is stored under the claimant's own URL."""
    site, port = two_hosts
    a_url = f"http://127.0.0.1:{port}/2024/05/01/bridge-over-the-river-approved/"
    b_url = f"http://localhost:{port}/2024/05/02/bridge-decision-reversed-claims-page/"
    claims = (f"<link rel='canonical' href='{a_url}'><meta property='og:url' content='{a_url}'>"
              f"<link rel='alternate' hreflang='uk' href='{a_url}'>")
    site.routes.update({
        (f"127.0.0.1:{port}", "/"): home(a_url),
        (f"127.0.0.1:{port}", "/2024/05/01/bridge-over-the-river-approved/"):
            html(article("Council approves the new river bridge", BRIDGE)),
        (f"localhost:{port}", "/"): home(b_url),
        (f"localhost:{port}", "/2024/05/02/bridge-decision-reversed-claims-page/"):
            html(article("Bridge decision reversed overnight", FAKE, claims, "2024-05-02T09:00:00+00:00")),
    })
    env = crawl_env(tmp_path, mongo_uri, "canon", NEWSCRAWL_PLAYWRIGHT="0")
    first = crawl_storing(tmp_path, env, "site-a", f"http://127.0.0.1:{port}/")
    assert stat(first, "newscrawl/mongo/inserted") == 1, first[-3000:]
    client: MongoClient = MongoClient(mongo_uri)
    try:
        db = client[env["MONGO_DATABASE"]]
        before = db.articles.find_one({"url_key": url_key(a_url)})
        assert before is not None and before["title"] == "Council approves the new river bridge"
        second = crawl_storing(tmp_path, env, "site-b", f"http://localhost:{port}/")
        assert f"localhost:{port}/2024/05/02/bridge-decision-reversed-claims-page/" in site.seen
        after = db.articles.find_one({"url_key": url_key(a_url)})
        assert after == before  # title, body, site, revision, translation_ids: every field
        assert db.article_revisions.count_documents({}) == 0
        claimant = db.articles.find_one({"url_key": url_key(b_url)})
        assert claimant is not None, second[-3000:]
        assert claimant["site"] == "localhost" and claimant["title"] == "Bridge decision reversed overnight"
        assert claimant["canonical_url"] == b_url and claimant["claimed_canonical"] == a_url
        assert claimant["translations"] == {} and "translation_ids" not in claimant
        assert db.articles.count_documents({}) == 2
        assert stat(second, "newscrawl/dedupe/changed") == 0
    finally:
        client.close()


@pytest.mark.crawl
def test_javascript_and_data_urls_are_not_stored(tmp_path: Path, mongo_uri: str, two_hosts: tuple[type[Any], int]) -> None:
    site, port = two_hosts
    url = f"http://127.0.0.1:{port}/2024/05/01/bridge-over-the-river-approved/"
    images = ["javascript:alert(1)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "/images/bridge.jpg"]
    head = ("<link rel='canonical' href='javascript:alert(3)'>"
            "<link rel='alternate' hreflang='uk' href='javascript:alert(2)'>"
            "<link rel='alternate' hreflang='de' href='data:text/html,hello'>")
    site.routes.update({
        (f"127.0.0.1:{port}", "/"): home(url),
        (f"127.0.0.1:{port}", "/2024/05/01/bridge-over-the-river-approved/"):
            html(article("Council approves the new river bridge", BRIDGE, head, image=images)),
    })
    env = crawl_env(tmp_path, mongo_uri, "schemes", NEWSCRAWL_PLAYWRIGHT="0")
    log = crawl_storing(tmp_path, env, "schemes", f"http://127.0.0.1:{port}/")
    client: MongoClient = MongoClient(mongo_uri)
    try:
        stored = client[env["MONGO_DATABASE"]].articles.find_one({"url": url})
    finally:
        client.close()
    assert stored is not None, log[-3000:]
    assert stored["canonical_url"] == url and stored["claimed_canonical"] is None
    assert [image["url"] for image in stored["images"]] == [f"http://127.0.0.1:{port}/images/bridge.jpg"]
    assert stored["translations"] == {}
    assert stored["unsafe_urls_dropped"] == 5
    assert stat(log, "newscrawl/unsafe_url_dropped") == 5
    assert "javascript:" not in json.dumps(stored, default=str) and "data:text" not in json.dumps(stored, default=str)


@pytest.mark.crawl
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}: apt-get install chromium")
def test_the_browser_goes_only_where_the_crawl_may(tmp_path: Path, mongo_uri: str, bait: str,
                                                   two_hosts: tuple[type[Any], int]) -> None:
    """A script-built page (rendered in Chromium) asks, before it writes its article, for a URL of
    its own site that redirects to a host nobody named, and shows an image from the bait server.
    The article is stored; neither the bait nor the unnamed host is ever asked anything."""
    site, port = two_hosts
    own = f"127.0.0.1:{port}"
    story = json.dumps({"title": "Council approves the new river bridge", "paragraphs": BRIDGE})
    spa = f"""<!doctype html><html lang="en"><head><title>Local news</title></head><body><div id="root"></div>
<img src="{bait}/pixel.gif">
<script>
const probe = new XMLHttpRequest();
probe.open("GET", "/api/probe", false);
try {{ probe.send(); }} catch (error) {{}}
const story = {story};
document.getElementById("root").innerHTML = "<article><h1>" + story.title + "</h1>"
  + "<time datetime='2024-05-01T09:00:00+00:00'>1 May 2024</time>"
  + story.paragraphs.map(p => "<p>" + p + "</p>").join("") + "</article>";
</script></body></html>"""
    site.routes.update({
        (own, "/"): home("/2024/05/01/bridge-over-the-river-approved/"),
        (own, "/2024/05/01/bridge-over-the-river-approved/"): html(spa),
        (own, "/api/probe"): redirect(f"http://localhost:{port}/internal"),
        (f"localhost:{port}", "/internal"): html("internal"),
    })
    env = crawl_env(tmp_path, mongo_uri, "browser", NEWSCRAWL_CHROMIUM=str(CHROMIUM))
    log = crawl_storing(tmp_path, env, "browser", f"http://{own}/")
    assert stat(log, "newscrawl/rendered_retry") == 1, log[-3000:]
    assert stat(log, "newscrawl/mongo/inserted") == 1, log[-3000:]
    assert f"{own}/api/probe" in site.seen  # the script did ask, through the guard
    assert Bait.seen == []
    assert not [seen for seen in site.seen if seen.startswith("localhost")], site.seen
    assert f"refused private address in the browser: {bait}/pixel.gif" in log
    assert (f"refused private address in the browser: http://localhost:{port}/internal "
            f"(redirected from http://{own}/api/probe)") in log
    assert stat(log, "newscrawl/unsafe/private_address") == 2


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}: apt-get install chromium")
def test_the_browser_guard_follows_allowed_redirects_and_refuses_websockets(bait: str) -> None:
    """The guard on a bare Playwright page: a redirect on the site is followed hop by hop (the page
    keeps the URL it was asked for), and a WebSocket to an internal address is never connected."""
    site = handler("Sockets")
    websocket = bait.replace("http://", "ws://") + "/socket"
    script = ("<script>const socket = new WebSocket(" + json.dumps(websocket) + ");"
              "socket.onclose = () => { document.title = 'closed'; };</script>")
    crawler = get_crawler(settings_dict={"NEWSCRAWL_ALLOW_PRIVATE_HOSTS": ["127.0.0.1"]})
    guard = BrowserGuard(TargetPolicy(crawler), crawler.stats)

    async def render(base: str) -> tuple[str, str]:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
            try:
                page = await (await browser.new_context(service_workers="block")).new_page()
                await page.route("**", lambda route, request: guard.route(route, request, lambda hop, _: hop.continue_()))
                await page.route_web_socket("**", guard.refuse_websocket)
                await page.goto(f"{base}/start")
                await page.wait_for_function("document.title === 'closed'", timeout=120_000)
                return page.url, await page.inner_text("h1")
            finally:
                await browser.close()

    with serving(site) as base:
        own = base.removeprefix("http://")
        site.routes.update({(own, "/start"): redirect("/page"),
                            (own, "/page"): html(f"<html><body><h1>Page</h1>{script}</body></html>")})
        url, heading = asyncio.run(render(base))
    assert (url, heading) == (f"{base}/start", "Page")
    assert site.seen == [f"{own}/start", f"{own}/page"]
    assert Bait.seen == []
    assert crawler.stats.get_value("newscrawl/unsafe/websocket") == 1
