"""JavaScript rendering only where needed, through Debian's Chromium (skipped when it is missing).

A local site links two articles: one whose text a script writes into an empty ``<div id="root">``
(the text is the real UNIAN English article, tests/files/unian/article_en_seed.txt; the page around
it is synthetic) and one ordinary real page (Ukrinform, tests/files/regional). The first is
fetched again through the browser and extracted; the second never starts a browser.
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import FILES, SITES
from localsite import QuietHandler, crawl_env, local_site, run_crawl, serving, stat
from newscrawl.crawl.rendering import looks_script_rendered
from newscrawl.extract.parser import GenericParser, NotAnArticle
from newscrawl.extract.text import word_count

CHROMIUM = Path(os.getenv("NEWSCRAWL_CHROMIUM", "/usr/bin/chromium"))
SEED = (FILES / "unian/article_en_seed.txt").read_text(encoding="utf-8").split("\n\n")
PARAGRAPHS = [p for p in SEED[4:] if len(p) > 80]
SPA = f"""<!doctype html><html lang="en"><head><title>ISW report | Local news</title></head>
<body><div id="root"></div><script>
const story = {json.dumps({"title": SEED[0], "paragraphs": PARAGRAPHS})};
const root = document.getElementById("root");
root.innerHTML = "<article><h1>" + story.title + "</h1><time datetime='2023-02-18T06:24:00+02:00'>06:24, 18.02.23</time>"
  + story.paragraphs.map(p => "<p>" + p + "</p>").join("") + "</article>";
</script></body></html>""".encode()
PLAIN = (FILES / "regional/ukrinform_ru_2020-09-20.html").read_bytes()
PATHS = {"/world/spa-story-12149817.html": SPA, "/rubric-kyiv/3103218-plain-story.html": PLAIN}


class SpaAndPlainPages(QuietHandler):
    """A home page linking the script-built article and the plain one; ``/plain-only/`` links the
    plain one alone."""

    def do_GET(self) -> None:
        links = {"/": list(PATHS), "/plain-only/": [list(PATHS)[1]]}
        if self.path in links:
            body = "".join(f'<a href="{path}">story</a>' for path in links[self.path])
            self.reply(200, f"<html><body><h1>Home</h1>{body}</body></html>".encode())
        elif self.path in PATHS:
            self.reply(200, PATHS[self.path])
        else:
            self.send_error(404)


#: the two stories, served for the module's tests
site = local_site(SpaAndPlainPages, scope="module")
#: the settings of every crawl here
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "NEWSCRAWL_SITEMAPS": 0}


def test_the_heuristic_on_real_and_scripted_pages() -> None:
    assert looks_script_rendered(SPA.decode())
    assert not looks_script_rendered(PLAIN.decode())
    for name in ("pravda_ru_2026-01-08.html", "24tv_2020-09-21.html", "unn_ru_2020-12-03.html"):
        assert not looks_script_rendered((FILES / "regional" / name).read_bytes().decode("utf-8", "replace"))


@pytest.mark.crawl
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}: apt-get install chromium")
def test_script_built_article_goes_through_the_browser(tmp_path: Path, site: str, mongo_uri: str) -> None:
    done = run_crawl("scrapy", "crawl", "generic", "-a", f"url={site}/", feed=tmp_path / "items.jsonl",
                     log=tmp_path / "crawl.log", settings=FAST,
                     env=crawl_env(tmp_path, mongo_uri, "render", NEWSCRAWL_CHROMIUM=str(CHROMIUM)))
    items, log = done.items, done.log
    by_title = {item["title"]: item for item in items}
    assert set(by_title) == {SEED[0], 'Полиция направила дело "минера" столичного метро в суд'}, log[-2000:]
    rendered = by_title[SEED[0]]
    body = rendered["body"].replace("\xa0", " ")
    assert PARAGRAPHS[0].replace("\xa0", " ") in body and PARAGRAPHS[2].replace("\xa0", " ") in body
    assert rendered["published_at"] == "2023-02-18T04:24:00+00:00"
    assert "'newscrawl/rendered_retry': 1" in log
    assert "'playwright/browser_count': 1" in log and "'playwright/page_count': 1" in log


@pytest.mark.crawl
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}: apt-get install chromium")
def test_ordinary_pages_start_no_browser(tmp_path: Path, site: str, mongo_uri: str) -> None:
    done = run_crawl("scrapy", "crawl", "generic", "-a", f"url={site}/plain-only/", feed=tmp_path / "items.jsonl",
                     log=tmp_path / "crawl.log", settings=FAST,
                     env=crawl_env(tmp_path, mongo_uri, "render", NEWSCRAWL_CHROMIUM=str(CHROMIUM)))
    items, log = done.items, done.log
    assert [item["title"] for item in items] == ['Полиция направила дело "минера" столичного метро в суд']
    assert "[scrapy-playwright] INFO: Starting download handler" in log  # installed…
    assert "playwright/browser_count" not in log and "newscrawl/rendered_retry" not in log  # …never used


# -- script-built article pages: rendered with Chromium, dropped and counted without ------------------

#: real article pages whose text the script-built pages carry (tests/files/*/README.md: where each is from)
REAL_PAGES = sorted([*FILES.glob("regional/*.html"), *FILES.glob("fundus/*.html.gz"), *FILES.glob("dates/*.html.gz"),
                     *SITES.glob("unian/*.reconstructed.html.gz")],
                    key=lambda path: ("reconstructed" in path.name, path.name))
HEADER = ('<header><a href="/">Local News</a><nav><a href="/">Home</a> | <a href="/city/">City</a> | '
          '<a href="/sport/">Sport</a> | <a href="/about/">About us</a></nav></header>')
#: how each kind of page builds its article: the element it fills, the data it reads
KINDS = {
    "article": ('<div id="article"></div><script type="application/json" id="story-data">{data}</script>',
                'JSON.parse(document.getElementById("story-data").textContent)', "article"),
    "root": ('<div id="root"></div><script>const STORY = {data};</script>', "STORY", "root"),
    "next": ('<div id="__next"></div><script id="__NEXT_DATA__" type="application/json">{{"props": {{"pageProps": '
             '{{"story": {data}}}}}}}</script>', 'JSON.parse(document.getElementById("__NEXT_DATA__").textContent)'
             '.props.pageProps.story', "__next"),
    "nuxt": ('<div id="__nuxt"></div><script>window.__NUXT__ = {{"data": [{data}]}};</script>',
             "window.__NUXT__.data[0]", "__nuxt"),
}
BUILDER = """<script>
const story = {source};
const host = document.getElementById("{target}");
const article = document.createElement("article");
const heading = document.createElement("h1");
heading.textContent = story.title;
const time = document.createElement("time");
time.setAttribute("datetime", story.published);
time.textContent = "";  // the instant only in the attribute, as many sites give it
article.append(heading, time);
for (const text of story.paragraphs) {{
  const paragraph = document.createElement("p");
  paragraph.textContent = text;
  article.append(paragraph);
}}
host.append(article);
</script>"""


def real_stories(count: int) -> list[dict]:
    """Title, date, language and paragraphs of ``count`` real articles (read by the generic parser)."""
    stories = []
    for path in REAL_PAGES:
        raw = path.read_bytes()
        html = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode("utf-8", "replace")
        try:
            article = GenericParser.parse(html, f"https://source.example/{path.name}",
                                          fetched_at=datetime(2026, 2, 1, tzinfo=timezone.utc))
        except NotAnArticle:
            continue
        if article.body and article.published_at and len((article.title or "").split()) >= 3:
            stories.append({"title": article.title, "published": article.published_at.isoformat(),
                            "language": article.language, "paragraphs": article.body.split("\n\n")})
    assert len(stories) >= count, f"only {len(stories)} real articles to build pages from"
    return stories[:count]


def script_built_page(story: dict, kind: str) -> bytes:
    """The article's page as a script builds it: a static site header, an empty element, the
    story as data in a script, and a script that writes it into the element."""
    data = json.dumps(story, ensure_ascii=False).replace("</", "<\\/")
    holder, source, target = KINDS[kind]
    lang = f' lang="{story["language"]}"' if story["language"] else ""
    return (f'<!doctype html><html{lang}><head><meta charset="utf-8"><title>{escape(story["title"])} | Local News'
            f'</title></head><body>{HEADER}{holder.format(data=data)}{BUILDER.format(source=source, target=target)}'
            "</body></html>").encode()


class ScriptBuiltPages(QuietHandler):
    """A home page linking script-built article pages (``pages``: path -> page), each carrying one of
    the real ``stories``."""

    pages: ClassVar[dict[str, bytes]] = {}
    stories: ClassVar[list[dict]] = []

    def do_GET(self) -> None:
        if self.path == "/":
            links = "".join(f'<a href="{path}">story</a>' for path in self.pages)
            self.reply(200, f"<html><body>{HEADER}<h1>Local News</h1>{links}</body></html>".encode())
        elif self.path in self.pages:
            self.reply(200, self.pages[self.path])
        else:
            self.send_error(404)

    @classmethod
    def prepare(cls) -> None:
        """20 script-built article pages, five of each kind, each a different real article."""
        cls.stories = real_stories(20)
        kinds = list(KINDS)
        cls.pages = {f"/news/{kinds[n % 4]}-story-{1000 + n}/": script_built_page(story, kinds[n % 4])
                     for n, story in enumerate(cls.stories)}

    @classmethod
    def opened(cls, base: str) -> tuple[str, list[dict]]:
        """The base URL and the stories the pages carry."""
        return base, cls.stories


#: the 20 script-built pages, served for the module's tests
script_site = local_site(ScriptBuiltPages, scope="module")


def words(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def test_script_built_pages_are_seen_as_such() -> None:
    """Each kind of page yields no body from its static HTML (the header and menu are no body) and
    is recognised as script-built; real pages are not."""
    story = real_stories(1)[0]
    for kind in KINDS:
        page = script_built_page(story, kind).decode()
        assert looks_script_rendered(page), kind
        with pytest.raises(NotAnArticle):
            GenericParser.parse(page, "http://127.0.0.1:8000/news/story-1000/")
    assert not looks_script_rendered('<div id="article"></div><script>console.log("article list")</script>' + "<p>x</p>")


#: a string of data in a script: ten words, over 40 characters
TEN_WORDS = '"the council approved the money for the new river bridge"'


def shown(count: int) -> str:
    """A paragraph of ``count`` words the page shows."""
    return "<p>" + " ".join(["word"] * count) + "</p>"


def filled_by(strings: int, *, quote: str = '"', script: str = "<script>") -> str:
    """An empty ``<div id="article">`` and a script that names it, carrying ``strings`` strings of ten words."""
    data = ", ".join([TEN_WORDS.replace('"', quote)] * strings)
    return f'<div id="article"></div>{script}const story = [{data}]; document.getElementById("article");</script>'


@pytest.mark.parametrize(("body", "built"), [
    # an empty app root: a div, main or section with one of the ids, nothing but white space in it
    ('<div id="root"></div>', True),
    ('<main class="app" id="__next">\n  </main>', True),
    ('<section data-x="1" id="__nuxt"></section>', True),
    ('<div id="svelte"> </div>', True),
    ('<div id="app"><p>Server-rendered text</p></div>', False),
    ('<span id="root"></span>', False),
    # an empty element a script names, its data strings holding 100 words or more, more than shown
    (filled_by(10), True),
    (filled_by(10).replace('getElementById("article")', 'querySelector("#article")'), True),
    (filled_by(10).replace("<div", "<article").replace("</div>", "</article>"), True),
    (filled_by(9), False),  # 90 words of data
    (filled_by(10) + shown(99), True),
    (filled_by(10) + shown(100), False),  # no more than the page shows
    (filled_by(10, quote="'"), False),  # single-quoted strings are not counted
    (filled_by(10).replace('getElementById("article")', 'getElementById("story")'), False),  # not named
    (filled_by(10, script='<script type="application/ld+json">'), False),  # JSON-LD aside
    (filled_by(10).replace("<div", "<span").replace("</div>", "</span>"), False),
    # a note asking for JavaScript
    ("<noscript>Please enable JavaScript to read this page.</noscript>" + shown(300), True),
    ("<p>JavaScript is required.</p>" + shown(300), True),
    ("<p>Увімкніть JavaScript у браузері.</p>" + shown(300), True),
    ("<p>Включите JavaScript.</p>" + shown(300), True),
    # scripts outweighing the text: under 150 words shown and over 2,000 characters of script
    (shown(149) + "<script>" + "x" * 2001 + "</script>", True),
    (shown(149) + '<script type="application/ld+json">' + "x" * 2001 + "</script>", True),
    (shown(150) + "<script>" + "x" * 2001 + "</script>", False),
    (shown(149) + "<script>" + "x" * 2000 + "</script>", False),
    (shown(149) + "<style>" + "x" * 5000 + "</style>", False),
])
def test_the_documented_trigger_rule(body: str, built: bool) -> None:
    """Each case of the rule docs/SPIDERS.md states (JavaScript-rendered pages), and its limits."""
    assert looks_script_rendered(f"<!doctype html><html><head></head><body>{body}</body></html>") is built


@pytest.fixture
def short_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary directory with a short path: Chromium's socket path in it must stay under 108 bytes."""
    return tmp_path_factory.mktemp("t")


def generic_crawl(tmp_path: Path, mongo_uri: str, url: str, *args: str, temporary: Path,
                  **env: str) -> tuple[str, list[dict], Path]:
    """A generic crawl of ``url`` with ``temporary`` as its TMPDIR; its log, its stored articles
    and that directory."""
    tmp_path.mkdir(exist_ok=True)
    done = run_crawl("scrapy", "crawl", "generic", "-a", f"url={url}", *args, log=tmp_path / "crawl.log",
                     env=crawl_env(tmp_path, mongo_uri, "scripted", TMPDIR=str(temporary), **env), settings=FAST,
                     timeout=900, expect=None)
    assert "Dumping Scrapy stats" in done.log, done.tail()
    return done.log, done.articles({"_id": 0}), temporary


@pytest.mark.crawl
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}: apt-get install chromium")
def test_twenty_script_built_pages_are_stored_with_their_real_bodies(
        tmp_path: Path, short_tmp: Path, mongo_uri: str, script_site: tuple[str, list[dict]]) -> None:
    base, stories = script_site
    log, stored, temporary = generic_crawl(tmp_path, mongo_uri, base + "/", temporary=short_tmp,
                                           NEWSCRAWL_CHROMIUM=str(CHROMIUM))
    assert stat(log, "newscrawl/rendered_retry") == 20, log[-3000:]
    assert len(stored) == 20, log[-3000:]
    by_title = {doc["title"]: doc for doc in stored}
    for story in stories:
        doc = by_title[story["title"]]
        body, source = words(doc["body"]), [words(p) for p in story["paragraphs"]]
        assert source[0] in body and source[-1] in body, story["title"]
        written = word_count("\n\n".join(story["paragraphs"]))  # the story's words, none besides
        assert 0.99 * written <= doc["word_count"] <= written, (story["title"], doc["word_count"], written)
        assert "Local News" not in body and "About us" not in body
        assert doc["published_at"].isoformat().startswith(story["published"][:16])
    assert not list(temporary.glob("playwright*")), list(temporary.iterdir())


@pytest.mark.crawl
@pytest.mark.parametrize("setting", ["auto", "0"])
def test_without_a_browser_script_built_pages_are_dropped_and_counted(
        tmp_path: Path, short_tmp: Path, mongo_uri: str, script_site: tuple[str, list[dict]], setting: str) -> None:
    """No browser (``auto``: none at NEWSCRAWL_CHROMIUM; ``0``: off): not one page is stored with
    the header or menu as its body; each is dropped and counted; ``auto`` says once that
    rendering is off; nothing is left in the temporary directory."""
    base, _ = script_site
    log, stored, temporary = generic_crawl(tmp_path, mongo_uri, base + "/", temporary=short_tmp,
                                           NEWSCRAWL_PLAYWRIGHT=setting, NEWSCRAWL_CHROMIUM=str(tmp_path / "no-chromium"))
    assert stored == []
    assert stat(log, "newscrawl/not_rendered") == 20, log[-3000:]
    assert stat(log, "newscrawl/articles_parsed") == 0 and stat(log, "newscrawl/fill/body") == 0
    assert log.count("rendering is off: no browser at") == (setting == "auto")
    assert "Traceback" not in log
    assert list(temporary.iterdir()) == []


TEASER = ("The council met on Tuesday evening to decide about the bridge, and this short teaser stands in the page "
          "until the script replaces it with the full story.")


@pytest.mark.crawl
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}: apt-get install chromium")
def test_render_argument_sends_every_article_page_through_the_browser(tmp_path: Path, short_tmp: Path,
                                                                      mongo_uri: str) -> None:
    """A page whose static HTML has a plausible teaser, which its script replaces with the story:
    the generic spider keeps the teaser, and with ``-a render=1`` stores the story."""
    story = next(story for story in real_stories(20) if story["language"] == "en")  # the teaser's language
    page = script_built_page(story, "article").decode().replace('<div id="article"></div>',
                                                                f'<div id="article"><p>{TEASER}</p></div>')
    page = page.replace("host.append(article);", "host.replaceChildren(article);")
    ScriptBuiltPages.pages = {"/news/teaser-story-1000/": page.encode()}
    with serving(ScriptBuiltPages) as base:
        plain_log, plain, _ = generic_crawl(tmp_path / "plain", mongo_uri, base + "/", temporary=short_tmp,
                                            NEWSCRAWL_CHROMIUM=str(CHROMIUM))
        rendered_log, rendered, temporary = generic_crawl(tmp_path / "rendered", mongo_uri, base + "/", "-a", "render=1",
                                                          temporary=short_tmp, NEWSCRAWL_CHROMIUM=str(CHROMIUM))
    assert [words(doc["body"]) for doc in plain] == [TEASER], plain_log[-3000:]
    assert len(rendered) == 1 and words(story["paragraphs"][-1]) in words(rendered[0]["body"]), rendered_log[-3000:]
    assert TEASER not in words(rendered[0]["body"])
    assert stat(rendered_log, "playwright/page_count") == 2  # the home page and the article
    assert not list(temporary.glob("playwright*")), list(temporary.iterdir())
