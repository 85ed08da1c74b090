"""Build ``unian-sample.warc.gz``, the archive behind the README's offline "try it" crawl.

Run from the repository root: ``python tests/files/unian/build_sample_archive.py``.
It holds UNIAN's real Ukrainian feed (2020) and the reconstructed English feed, listing and seed
article (see README.md here); every other URL the spider asks for is answered 404 by the replay.
"""

from __future__ import annotations

from pathlib import Path

from newscrawl.crawl.replay import ArchivedResponse, write_warc

HERE = Path(__file__).resolve().parent
HTML = "text/html; charset=utf-8"
XML = "application/rss+xml; charset=utf-8"
SAMPLE = [
    ("https://www.unian.ua/static/rss/all.xml", "rss_unian_ua_2020-09-28.xml", XML, "Mon, 28 Sep 2020 13:36:30 GMT"),
    ("https://www.unian.info/rss", "rss_unian_info_2023-02-18.reconstructed.xml", XML, "Sat, 18 Feb 2023 04:30:00 GMT"),
    (
        "https://www.unian.info/detail/all_news?page=1",
        "all_news_unian_info_2023-02-18.reconstructed.html",
        HTML,
        "Sat, 18 Feb 2023 04:30:00 GMT",
    ),
    (
        "https://www.unian.info/world/putin-absorbs-belarusian-factories-to-strengthen-his-army-isw-12149817.html",
        "article_en_2023-02-18_putin-belarus.reconstructed.html",
        HTML,
        "Sat, 18 Feb 2023 04:31:00 GMT",
    ),
]


def build(out: Path = HERE / "unian-sample.warc.gz") -> Path:
    """Write the sample archive and return its path."""
    write_warc(
        out,
        [
            ArchivedResponse(url=url, status=200, headers={"Content-Type": kind, "Date": served}, body=(HERE / name).read_bytes())
            for url, name, kind, served in SAMPLE
        ],
    )
    return out


if __name__ == "__main__":
    print(build())
