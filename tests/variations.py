"""Generated variations of the (reconstructed) UNIAN article page, for crawl-scale tests.

Each variation keeps the page's documented markup and swaps in its own story id, headline and
paragraphs (words drawn from the real seed article), so that the dedupe pipeline sees different
stories. ``drifted=True`` renames the markup the way a site redesign would — the date, byline and
body classes — so only JSON-LD-less layers are left to answer. Synthetic content: for fault,
drift and scale tests, not for judging extraction.
"""

from __future__ import annotations

import gzip
import random
import re
from pathlib import Path

from newscrawl.crawl.replay import ArchivedResponse, write_warc

FILES = Path(__file__).resolve().parent / "files"
SITES = Path(__file__).resolve().parent / "sites"
SEED_PAGE = gzip.decompress((SITES / "unian/en-putin-belarus_2023-02-18.reconstructed.html.gz").read_bytes()).decode()
SEED_ID = "12149817"
WORDS = re.findall(r"[A-Za-z]{3,}", (FILES / "unian/article_en_seed.txt").read_text(encoding="utf-8"))
LISTING_URL = "https://www.unian.info/detail/all_news?page=1"
SERVED = "Sat, 18 Feb 2023 06:00:00 GMT"
RENAMED = {"article__info-item time": "meta-line__when", "article-text": "story-body",
           "article__author-name": "byline-link"}


def article_url(story: int) -> str:
    """The URL of variation ``story`` (UNIAN's English URL pattern, an id of its own)."""
    return f"https://www.unian.info/world/generated-story-number-{story}-{13000000 + story}.html"


def article_page(story: int, *, drifted: bool = False) -> str:
    """Variation ``story`` of the seed page."""
    rng = random.Random(story)
    page = SEED_PAGE.replace(SEED_ID, str(13000000 + story))
    page = re.sub(r"putin-absorbs-belarusian-factories-to-strengthen-his-army-isw", f"generated-story-number-{story}", page)
    headline = " ".join(rng.choices(WORDS, k=8)).capitalize()
    page = re.sub(r"<h1>.*?</h1>", f"<h1>{headline}</h1>", page, flags=re.S)
    page = re.sub(r"<title>.*?</title>", f"<title>{headline} | UNIAN</title>", page, flags=re.S)
    page = re.sub(r"<p>(?!<)[^<]{80,}</p>", lambda _: f"<p>{' '.join(rng.choices(WORDS, k=70))}.</p>", page)
    if drifted:
        for old, new in RENAMED.items():
            page = page.replace(f'class="{old}', f'class="{new}')
    return page


def build_archive(path: Path, stories: range, *, drifted_every: int = 0) -> Path:
    """A WARC with the English all-news listing linking ``stories`` and their pages; every
    ``drifted_every``-th story (0: none) in the renamed markup."""
    links = "".join(f'<a href="{article_url(n)}">story {n}</a>' for n in stories)
    listing = f"<html><body><div class='list'>{links}</div></body></html>"
    records = [ArchivedResponse(url=LISTING_URL, status=200, body=listing.encode(),
                                headers={"Content-Type": "text/html; charset=utf-8", "Date": SERVED})]
    for n in stories:
        drifted = bool(drifted_every) and n % drifted_every == 0
        records.append(ArchivedResponse(url=article_url(n), status=200, body=article_page(n, drifted=drifted).encode(),
                                        headers={"Content-Type": "text/html; charset=utf-8", "Date": SERVED}))
    write_warc(path, records)
    return path
