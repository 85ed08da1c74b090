"""Rebuild the two ``*.reconstructed.html`` article pages from the real RSS captures beside them.

No article page of LIGA.net or Ukrainian News was captured. Each reconstruction carries only what
the real feed says about one story — title, date, image, category, lead, and (Ukrainian News)
the full text from ``yandex:full-text`` — inside a typical news-page template (JSON-LD, OpenGraph,
navigation and footer noise). The template is ours, not the site's: the pages test the layered
path (JSON-LD → meta → generic body), never the sites' own markup.

Run: ``python tests/files/regional/build_reconstructions.py``
"""

from __future__ import annotations

import html
import json
from email.utils import parsedate_to_datetime
from pathlib import Path

from parsel import Selector

HERE = Path(__file__).resolve().parent

TEMPLATE = """<!DOCTYPE html>
<!-- RECONSTRUCTION, not a capture: assembled by build_reconstructions.py from the real feed item
     {link} in {feed}. The HTML template is generic, not {site}'s markup. -->
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title} | {site}</title>
<link rel="canonical" href="{link}">
<meta property="og:site_name" content="{site}">
<meta property="og:title" content="{title}">
<meta property="og:description" content="{lead}">
<meta property="og:image" content="{image}">
<meta property="article:published_time" content="{published_iso}">
<script type="application/ld+json">{jsonld}</script>
</head>
<body>
<header><nav><a href="/">{site}</a> <a href="/news/">Новости</a> <a href="/politics/">Политика</a></nav></header>
<main>
<article>
<h1>{title}</h1>
<div class="article-info"><span class="category">{category}</span> <time datetime="{published_iso}">{published_raw}</time></div>
<div class="article-body">
{paragraphs}
</div>
</article>
<aside><h3>Популярное</h3><ul><li><a href="/news/1-other">Другая новость дня</a></li></ul></aside>
</main>
<footer><p>© {site}. Все права защищены. Использование материалов разрешается при условии ссылки.</p></footer>
</body>
</html>
"""


def build(feed: str, index: int, out: str, site: str, lang: str) -> None:
    """Write one reconstructed page from item ``index`` of ``feed``."""
    sel = Selector(text=(HERE / feed).read_bytes().decode("utf-8"), type="xml")
    sel.remove_namespaces()
    item = sel.xpath("//item")[index]
    text = lambda path: (item.xpath(f"{path}/text()").get() or "").strip()  # noqa: E731
    title, link, lead, published_raw = text("title"), text("link"), text("description"), text("pubDate")
    image = item.xpath("enclosure/@url").get() or ""
    full = item.xpath("full-text/text()").get()
    paragraphs = Selector(text=html.unescape(full)).xpath("//p").getall() if full else [f"<p>{html.escape(lead)}</p>"]
    published_iso = parsedate_to_datetime(published_raw).isoformat()
    jsonld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "datePublished": published_iso,
              "image": [image] if image else [], "publisher": {"@type": "Organization", "name": site},
              "mainEntityOfPage": link}
    if lead:
        jsonld["description"] = lead
    page = TEMPLATE.format(
        link=link, feed=feed, site=site, lang=lang, title=html.escape(title), lead=html.escape(lead), image=image,
        published_iso=published_iso, published_raw=published_raw, category=html.escape(text("category")),
        jsonld=json.dumps(jsonld, ensure_ascii=False), paragraphs="\n".join(paragraphs),
    )
    (HERE / out).write_text(page, encoding="utf-8")


if __name__ == "__main__":
    build("rss_ukranews_2020-09.xml", 0, "ukranews_ru_2020-09-28.reconstructed.html", "Українські Новини", "ru")
    build("rss_liga_ru_2021-08-22.xml", 0, "liga_ru_2021-08-22.reconstructed.html", "LIGA.net", "ru")
