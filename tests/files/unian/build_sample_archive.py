"""Build ``unian-sample.warc.gz``, the archive behind the README's offline "try it" crawl.

Run from the repository root: ``python tests/files/unian/build_sample_archive.py``.
It holds UNIAN's real Ukrainian feed (2020) and the reconstructed English feed and listing (see
README.md here), and the reconstructed seed article, whose one copy is the site fixture page of
tests/sites/unian; every other URL the spider asks for is answered 404 by the replay.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from newscrawl.crawl.replay import ArchivedResponse, write_warc

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parents[1] / "sites" / "unian"
HTML = "text/html; charset=utf-8"
XML = "application/rss+xml; charset=utf-8"
SAMPLE = [
    ("https://www.unian.ua/static/rss/all.xml", HERE / "rss_unian_ua_2020-09-28.xml", XML,
     "Mon, 28 Sep 2020 13:36:30 GMT"),
    ("https://www.unian.info/rss", HERE / "rss_unian_info_2023-02-18.reconstructed.xml", XML,
     "Sat, 18 Feb 2023 04:30:00 GMT"),
    (
        "https://www.unian.info/detail/all_news?page=1",
        HERE / "all_news_unian_info_2023-02-18.reconstructed.html",
        HTML,
        "Sat, 18 Feb 2023 04:30:00 GMT",
    ),
    (
        "https://www.unian.info/world/putin-absorbs-belarusian-factories-to-strengthen-his-army-isw-12149817.html",
        FIXTURES / "en-putin-belarus_2023-02-18.reconstructed.html.gz",
        HTML,
        "Sat, 18 Feb 2023 04:31:00 GMT",
    ),
]


def page(path: Path) -> bytes:
    """The bytes of a saved page (a gzipped site fixture page unpacked)."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def build(out: Path = HERE / "unian-sample.warc.gz") -> Path:
    """Write the sample archive and return its path."""
    write_warc(
        out,
        [
            ArchivedResponse(url=url, status=200, headers={"Content-Type": kind, "Date": served}, body=page(path))
            for url, path, kind, served in SAMPLE
        ],
    )
    return out


if __name__ == "__main__":
    print(build())
