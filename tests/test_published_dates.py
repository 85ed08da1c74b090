"""The publication date decided among candidates (``newscrawl.extract.published``): each rule on
candidates, then on real saved pages (tests/files/dates/README.md, tests/files/fundus/README.md),
``published_local`` and its validation."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from parsel import Selector
from scrapy.utils.test import get_crawler

from conftest import FILES
from newscrawl.extract.dates import stated_offset
from newscrawl.extract.datesources import (UrlDate, belongs_to_other_item, labels_publication, labels_update, printed_dates,
                                           url_date, visible_dates)
from newscrawl.extract.encoding import decoded_text
from newscrawl.extract.items import Article
from newscrawl.extract.parser import ArticleParser, GenericParser
from newscrawl.extract import published
from newscrawl.extract.published import DateCandidate, decide, in_page_order, local_time
from newscrawl.extract.timezones import offset_zone, page_zone, printed_zone
from newscrawl.ops.site_fixtures import Fixture, discover
from newscrawl.sites import parser_for_url
from pipelines.clean import CleanPipeline, InvalidDate

FETCHED = datetime(2024, 5, 3, 18, 0, tzinfo=timezone.utc)


def candidate(kind: str, day: str, *, hour: int | None = 10, other_item: bool = False) -> DateCandidate:
    """A candidate of ``kind`` on local day ``day`` (UTC clock), at ``hour`` (None: the day alone)."""
    value = datetime.fromisoformat(day).replace(hour=hour or 0, tzinfo=timezone.utc)
    raw = value.isoformat() if hour is not None else day
    return DateCandidate(kind, raw, value, value.date(), hour is not None, other_item)


def chosen_day(*candidates: DateCandidate, **rules: object) -> str | None:
    decision = decide(candidates, fetched_at=FETCHED, **rules)
    return decision.chosen.local_day.isoformat() if decision.chosen else None


# -- the rules, on candidates ----------------------------------------------------------------------


def test_agreement_of_independent_sources_beats_the_most_trusted_source() -> None:
    """JSON-LD alone against ``<time>``, a dateline and htmldate: three sources give the 28th."""
    htmldate = candidate("htmldate", "2024-04-28", hour=None)
    assert chosen_day(candidate("jsonld", "2024-04-23"), candidate("time", "2024-04-28"),
                      candidate("dateline", "2024-04-28"), htmldate) == "2024-04-28"


def test_sources_that_are_not_independent_count_once() -> None:
    """``itemprop`` and ``<time>`` (often one element) are one source, and so are the page's JSON-LD objects."""
    assert chosen_day(candidate("meta", "2024-04-23"), candidate("itemprop", "2024-04-28"),
                      candidate("time", "2024-04-28")) == "2024-04-23"  # one against one: the most trusted
    assert chosen_day(candidate("html", "2024-04-23"), candidate("meta", "2024-04-23"),
                      candidate("jsonld", "2024-04-28"), candidate("jsonld_other", "2024-04-28")) == "2024-04-23"


def test_a_tie_goes_to_the_most_trusted_source() -> None:
    assert chosen_day(candidate("dateline", "2024-04-20"), candidate("jsonld", "2024-04-21")) == "2024-04-21"


def test_the_answer_gives_a_time_when_a_source_of_its_day_does() -> None:
    """JSON-LD gives the day alone; the ``<time>`` of the same day gives the time: it is the answer."""
    decision = decide([candidate("jsonld", "2024-04-28", hour=None), candidate("time", "2024-04-28", hour=9),
                       candidate("url", "2024-04-28", hour=None)], fetched_at=FETCHED)
    assert decision.chosen is not None and (decision.chosen.kind, decision.chosen.value.hour) == ("time", 9)
    assert decision.chosen.source == "generic"


def test_never_after_the_fetch() -> None:
    """A date after the fetch is rejected, not clamped: an earlier candidate wins, else no date."""
    later = candidate("jsonld", "2024-05-03", hour=19)
    decision = decide([later, candidate("dateline", "2024-05-02")], fetched_at=FETCHED)
    assert decision.chosen is not None and decision.chosen.local_day == date(2024, 5, 2)
    assert decision.rejected == [(later, "after_fetch")]
    assert decide([later], fetched_at=FETCHED).chosen is None


def test_a_full_url_date_bounds_the_day_to_one_either_side() -> None:
    url = UrlDate(2024, 4, 28)
    url_day = candidate("url", "2024-04-28", hour=None)
    assert chosen_day(candidate("jsonld", "2024-03-01"), url_day, url_date=url) == "2024-04-28"
    assert chosen_day(candidate("jsonld", "2024-04-27"), url_day, url_date=url) == "2024-04-27"
    assert chosen_day(candidate("jsonld", "2024-04-26"), url_date=url) is None
    decision = decide([candidate("jsonld", "2024-04-26")], fetched_at=FETCHED, url_date=url)
    assert [rule for _, rule in decision.rejected] == ["url_bound"]


def test_a_year_and_month_in_the_url_bound_the_month() -> None:
    url = UrlDate(2024, 2)
    assert url.admits(date(2024, 2, 29)) and url.admits(date(2024, 3, 1)) and url.admits(date(2024, 1, 31))
    assert not url.admits(date(2024, 3, 2))
    assert chosen_day(candidate("jsonld", "2023-02-10"), candidate("time", "2024-02-10"), url_date=url) == "2024-02-10"


def test_a_page_is_never_older_than_its_url() -> None:
    """No candidate fits the URL's month: the page is newer than its URL (kept up to date), but a
    candidate before that month is still rejected."""
    url = UrlDate(2011, 12)
    assert chosen_day(candidate("htmldate", "2012-06-01", hour=None), url_date=url) == "2012-06-01"
    decision = decide([candidate("htmldate", "2010-06-01", hour=None)], fetched_at=FETCHED, url_date=url)
    assert decision.chosen is None and [rule for _, rule in decision.rejected] == ["url_bound"]
    assert chosen_day(candidate("jsonld", "2011-11-30"), url_date=url) == "2011-11-30"  # a day of slack


def test_htmldates_lone_january_first_is_a_bare_year() -> None:
    january_first = candidate("htmldate", "1998-01-01", hour=None)
    decision = decide([january_first], fetched_at=FETCHED)
    assert decision.chosen is None and decision.rejected == [(january_first, "year_only")]
    assert chosen_day(january_first, candidate("dateline", "1998-01-01", hour=None)) == "1998-01-01"
    assert chosen_day(candidate("htmldate", "1998-01-02", hour=None)) == "1998-01-02"


def test_dates_of_other_items_lose() -> None:
    """A ``<time>`` in the comments is rejected even when no other candidate is left."""
    in_comments = candidate("time", "2024-05-01", other_item=True)
    assert chosen_day(in_comments, candidate("dateline", "2024-04-20")) == "2024-04-20"
    assert chosen_day(in_comments) is None


def test_a_date_equal_to_date_modified_loses_when_the_page_states_an_earlier_one() -> None:
    """JSON-LD says published on the 20th, modified on 1 May: a ``<time>`` and a dateline showing
    1 May show the update, however many they are."""
    modified = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    decision = decide([candidate("jsonld", "2024-04-20"), candidate("time", "2024-05-01"),
                       candidate("dateline", "2024-05-01"), candidate("htmldate", "2024-05-01")],
                      fetched_at=FETCHED, modified=modified)
    assert decision.chosen is not None and decision.chosen.local_day == date(2024, 4, 20)
    assert [rule for _, rule in decision.rejected] == ["modified", "modified", "modified"]


def test_a_page_that_gives_the_same_published_and_modified_date_was_never_updated() -> None:
    """Published and modified the same instant: nothing is suspect, and earlier dates on the page
    (related articles) do not make the page's own date a modification date."""
    modified = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    assert chosen_day(candidate("jsonld", "2024-05-01"), candidate("meta", "2024-05-01"),
                      candidate("time", "2024-04-20"), modified=modified) == "2024-05-01"


def test_settled_only_when_all_agree_and_two_sources_or_the_site_markup_say_so() -> None:
    def settled(*candidates: DateCandidate) -> bool:
        return decide(candidates, fetched_at=FETCHED).settled

    assert settled(candidate("jsonld", "2024-04-28"), candidate("meta", "2024-04-28"))
    assert not settled(candidate("jsonld", "2024-04-28"))
    assert settled(candidate("html", "2024-04-28"))  # the site parser's own published_css
    assert not settled(candidate("html", "2024-04-28"), candidate("jsonld", "2024-04-27"))
    assert not settled(candidate("jsonld", "2024-04-28"), candidate("meta", "2024-04-28"),
                       candidate("time", "2024-04-01"))
    assert not settled(candidate("itemprop", "2024-04-28"), candidate("time", "2024-04-28"))  # one source


@pytest.mark.parametrize("fixture", [f for f in discover() if ".excerpt" not in f.page_path.name], ids=lambda f: f.page_path.name)
def test_a_site_markup_date_that_settles_gives_the_answer_of_the_full_search(
        fixture: Fixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """The search stops at the site's own date when nothing contradicts it: every field of every site
    fixture is what the search through every stage (datelines, htmldate) gives."""
    parser = parser_for_url(fixture.url)
    settled_early = parser.parse(fixture.html(), fixture.url, fetched_at=fixture.fetched_at)
    monkeypatch.setattr(published, "DECLARED_FAMILIES", frozenset())
    searched = parser.parse(fixture.html(), fixture.url, fetched_at=fixture.fetched_at)
    assert settled_early == searched


# -- URL dates, offsets, the page's clock ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/2023/04/28/slug/", UrlDate(2023, 4, 28)),
        ("https://www.dailymaverick.co.za/article/2026-01-06-joburg-has-failed/", UrlDate(2026, 1, 6)),
        ("https://example.com/news/20230428/slug.html", UrlDate(2023, 4, 28)),
        ("https://landesspiegel.li/2026/01/eu-und-indien/", UrlDate(2026, 1)),
        ("https://example.com/2023/02/30/slug/", UrlDate(2023, 2)),  # no such day: the month is left
        ("https://www.dw.com/de/ukrainische-gegenoffensive/a-65464327", None),
        ("https://example.com/archive?date=2023-04-28", None),  # the path only
    ],
)
def test_url_date(url: str, expected: UrlDate | None) -> None:
    assert url_date(url) == expected


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2023-04-28T18:11:01+02:00", timedelta(hours=2)),
        ("2023-04-28T18:11:01.123-0530", -timedelta(hours=5, minutes=30)),
        ("Fri, 28 Apr 2023 18:11:01 +0200", timedelta(hours=2)),
        ("2023-04-28T18:11:01+00:00", timedelta(0)),
        ("2023-04-28T18:11:01Z", None),
        ("2023-04-28 18:11:01.0", None),
        ("2023-04-28", None),
        ("28.04.2023, 10:00 - 11:00", None),
    ],
)
def test_stated_offset(text: str, offset: timedelta | None) -> None:
    assert stated_offset(text) == offset


def test_local_time_keeps_the_stated_offset_else_uses_the_page_zone() -> None:
    instant = datetime(2023, 4, 28, 22, 30, tzinfo=timezone.utc)
    assert local_time(instant, "2023-04-28T18:30:00-04:00", "Europe/Berlin").isoformat() == "2023-04-28T18:30:00-04:00"
    assert local_time(instant, "2023-04-28T22:30:00Z", "Europe/Berlin").isoformat() == "2023-04-29T00:30:00+02:00"
    assert local_time(instant, "2023-04-28T22:30:00+00:00", "Europe/Berlin").date() == date(2023, 4, 29)


def test_the_clock_a_page_prints_for_an_instant_it_gives_in_utc() -> None:
    """"11:30 p.m." printed for 05:30:59Z: the page is six hours behind UTC. A zero offset is no clock."""
    dated = ["2023-11-09T05:30:59Z", "2023-11-09T05:30:59+00:00"]
    assert printed_zone(dated, ["November 8, 2023 at 11:30 p.m."]) == "Etc/GMT+6"
    assert printed_zone(dated, ["November 9, 2023 at 5:30 a.m."]) is None  # it prints UTC
    assert printed_zone(dated, ["November 8, 2023 at 11:12 p.m."]) is None  # another moment
    assert printed_zone(dated, ["November 8, 2023"]) is None  # no time of day
    assert offset_zone("2023-11-09T05:30:59+00:00") is None
    assert page_zone("https://www.example.com/x", dated, "en", ["November 8, 2023 at 11:30 p.m."]) == "Etc/GMT+6"
    assert page_zone("https://www.example.de/x", dated, "en", ["November 8, 2023 at 11:30 p.m."]) == "Europe/Berlin"


def test_other_items_are_comments_related_lists_side_bars_and_the_page_footer() -> None:
    sel = Selector(text="""<html><body class="single has-sidebar"><article><header><time id="a">x</time></header>
        <footer class="entry-footer"><time id="b">x</time></footer></article>
        <div id="comments"><article class="comment-body"><time id="c">x</time></article></div>
        <section class="related-posts"><time id="d">x</time></section><aside><time id="e">x</time></aside>
        <footer class="site-footer"><span id="f">x</span></footer>
        <main><footer class="article-footer"><time id="g">x</time></footer></main>
        <div itemscope itemtype="https://schema.org/VideoObject"><meta id="h" itemprop="datePublished"></div>
        <div><figure><figcaption id="i">x</figcaption></figure></div></body></html>""")

    def other(element_id: str) -> bool:
        return belongs_to_other_item(sel.css(f"#{element_id}")[0].root)

    assert not other("a") and not other("b") and not other("g")  # the article's own header and footers
    assert other("c") and other("d") and other("e") and other("f")  # comments, related, aside, page footer
    assert other("h") and other("i")  # a video's microdata, a caption


# -- real pages --------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


def page_parser(name: str, url: str, fetched_at: datetime = NOW) -> ArticleParser:
    """The generic parser on a saved page, decoded as ``python -m newscrawl parse`` does."""
    html = decoded_text(gzip.decompress((FILES / name).read_bytes()))
    return GenericParser.for_date(fetched_at.date())(html, url, fetched_at=fetched_at)


def rejected_rules(parser: ArticleParser) -> list[str]:
    return [rule for _, rule in parser._published_decision.rejected]


def test_the_url_day_bounds_a_later_time_element() -> None:
    parser = page_parser("dates/dobszay.ch.geheimdiensten.html.gz", "https://www.dobszay.ch/2016-04-15/"
                         "was-ist-der-unterschied-zwischen-privaten-und-staatlichen-geheimdiensten/")
    article = parser.parse()
    assert article.published_local == "2016-04-15T08:12:12+02:00"
    assert article.published_source == "generic"  # the <time> of the day the URL names, with its time
    assert "url_bound" in rejected_rules(parser)
    assert article.layers["published_rejected"] == len(rejected_rules(parser)) > 0


def test_a_printed_update_time_is_not_the_publication() -> None:
    """The first date after the headline is the update (the page's dateModified, to the minute);
    its microdata says published on 22 June."""
    parser = page_parser("dates/nmb-media.de.ebay.html.gz",
                         "https://shop.nmb-media.de/eBay-Template-Datenschutz-Google-Fonts-Fontawesome")
    published, raw = parser.published()
    assert raw == "2018-06-22 10:20:00"
    assert parser.published_local() == "2018-06-22T10:20:00+02:00"
    assert parser.modified()[0] == datetime(2018, 8, 29, 12, 15, 57, tzinfo=timezone.utc)
    assert "modified" in rejected_rules(parser)


def test_comment_dates_and_the_update_time_are_rejected() -> None:
    parser = page_parser("dates/anchor.ch.lanka.html.gz", "https://www.anchor.ch/gesellschaft/"
                         "ein-tag-aus-dem-leben-eines-taugenichts-oder-die-leute-von-sri-lanka/")
    published, raw = parser.published()
    assert raw == "2019-12-22T10:59:48+00:00"
    assert parser.published_local() == "2019-12-22T11:59:48+01:00"  # a "+00:00" page in Switzerland
    rules = rejected_rules(parser)
    assert rules.count("modified") == 1 and rules.count("other_item") >= 5


def test_published_local_keeps_the_offset_the_page_states() -> None:
    article = page_parser("dates/treyhunner.com-pathlib.html.gz",
                          "https://treyhunner.com/2018/12/why-you-should-be-using-pathlib/").parse()
    assert article.published_at == datetime(2018, 12, 21, 22, 0, tzinfo=timezone.utc)
    assert article.published_local == "2018-12-21T14:00:00-08:00"
    assert datetime.fromisoformat(article.published_local) == article.published_at


def test_the_local_day_is_on_the_clock_the_page_prints() -> None:
    """JSON-LD and meta say 2023-11-09T05:30:59Z; the page prints "November 8, 2023 at 11:30 p.m."."""
    url = ("https://www.twincities.com/2023/11/08/"
           "st-louis-park-elects-a-new-mayor-apparently-the-first-somali-american-to-lead-a-u-s-city/")
    article = page_parser("dates/twincities.com-mayor.html.gz", url).parse()
    assert article.published_at == datetime(2023, 11, 9, 5, 30, 59, tzinfo=timezone.utc)
    assert article.published_source == "jsonld"
    assert article.published_local == "2023-11-08T23:30:59-06:00"


def test_a_page_without_dates_in_its_data_gets_the_printed_day_in_its_own_zone() -> None:
    """No JSON-LD, meta or <time>: the dateline "6. August 2009" and htmldate agree. The day alone is
    local midnight in Berlin, so the UTC instant falls on the day before; the local day is right."""
    article = page_parser("dates/archiv.krimiblog.de.2895.html.gz", "http://archiv.krimiblog.de/?p=2895").parse()
    assert article.published_local == "2009-08-06T00:00:00+02:00"
    assert article.published_at == datetime(2009, 8, 5, 22, 0, tzinfo=timezone.utc)
    assert article.published_source == "generic"


def test_a_date_printed_anywhere_that_fits_the_url_month_when_nothing_else_does() -> None:
    """htmldate's only day is 2010-06-01, older than the URL's month (2011/12): rejected. The footer
    says "Dieser Beitrag wurde ... am Samstag, 3. Dezember 2011 ... veröffentlicht"; the page declares
    no language, so German is read from the ``.de`` host."""
    parser = page_parser("dates/pbrunst.de.html.gz", "http://www.pbrunst.de/news/2011/12/kein-cyberterrorismus-diesmal/")
    article = parser.parse()
    assert article.published_local == "2011-12-03T00:00:00+01:00"
    assert article.published_source == "generic" and rejected_rules(parser) == ["url_bound"]


def test_a_year_in_an_html_comment_is_no_date() -> None:
    """The page's only year is in an HTML comment ("TYPO3 is copyright 1998-2022"), which htmldate's
    extensive search read as 1998-01-01 (rejected by ``year_only``): comments are not read at all."""
    parser = page_parser("dates/wsl.ch-neubeau.html.gz", "https://neubau.wsl.ch/de/index.html")
    article = parser.parse()
    assert article.published_at is None and rejected_rules(parser) == []
    assert article.title == "Neubau Werkstattgebäude"  # the <title> without the site's name


def test_a_page_without_other_headlines_takes_the_title_segment_a_heading_repeats() -> None:
    url = "https://gregoryszorc.com/blog/2020/01/13/mercurial%27s-journey-to-and-reflections-on-python-3/"
    article = page_parser("dates/gregoryszorc.com.python3.html.gz", url).parse()
    assert article.title == "Mercurial's Journey to and Reflections on Python 3"
    assert article.layers["title"] == "generic"
    assert article.published_local is not None and article.published_local.startswith("2020-01-13")


NTV = ("fundus/de_NTV_2023_04_28.html.gz",
       "https://www.n-tv.de/leben/Judy-Lybke-ganz-und-gar-nicht-eigenartig-article24075843.html")


def test_a_structured_date_after_the_fetch_gives_way_to_an_earlier_one_or_none() -> None:
    """Fetched at 17:00 Berlin time, the JSON-LD, meta and dateline all say 18:11 that day: all three
    are rejected, and so is htmldate's day, which only restates them without the time (no clamping
    to the day): there is no date. Fetched a minute after 18:11, the page's own time stands."""
    fetched = datetime(2023, 4, 28, 15, 0, tzinfo=timezone.utc)
    parser = page_parser(*NTV, fetched_at=fetched)
    assert parser.published() == (None, None)
    assert set(rejected_rules(parser)) == {"after_fetch"} and len(rejected_rules(parser)) >= 4
    later = page_parser(*NTV, fetched_at=datetime(2023, 4, 28, 16, 12, tzinfo=timezone.utc)).parse()
    assert later.published_local == "2023-04-28T18:11:01+02:00" and later.layers["published_rejected"] == 0


def test_a_date_after_the_fetch_gives_way_to_an_earlier_one() -> None:
    """The meta tag says 21:00, after the fetch (20:00 that day); the dateline's day is earlier."""
    html = """<html><head><meta property="article:published_time" content="2024-05-03T21:00:00+02:00">
        </head><body><h1>Headline</h1><p class="date">02.05.2024</p><p>Text of the article.</p></body></html>"""
    parser = GenericParser.V1(html, "https://example.de/a", fetched_at=FETCHED)
    assert parser.published_local() == "2024-05-02T00:00:00+02:00"
    assert parser.layers["published_at"] == "generic"  # the dateline
    assert "after_fetch" in rejected_rules(parser) and set(rejected_rules(parser)) == {"after_fetch"}


def test_a_us_page_is_on_new_york_time_when_its_days_agree() -> None:
    """pagesix.com declares ``en_US``; its data says 2020-02-25T02:25:54Z, its URL 2020/02/24: in New
    York that instant is on the URL's day."""
    parser = page_parser("dates/pagesix.com.myers.html.gz",
                         "https://pagesix.com/2020/02/24/former-wh-press-secretary-dee-dee-myers-exits-warner-bros-role/")
    assert parser.timezone == "America/New_York"
    assert parser.parse().published_local == "2020-02-24T21:25:54-05:00"


def test_a_declared_country_whose_zone_contradicts_the_pages_days_is_no_clock() -> None:
    """murdeltas.wordpress.com keeps WordPress's ``en_US`` but says 2015-04-05T00:08:34+00:00 for a
    post its URL dates 2015/04/05: in New York that is the 4th, so the page's clock is not New York's."""
    parser = page_parser("dates/murdeltas.wordpress.com.politcamp.html.gz",
                         "https://murdeltas.wordpress.com/2015/04/05/barcamp-graz-2015-politcamp-call-for-action/")
    assert parser.timezone == "UTC"
    assert parser.parse().published_local.startswith("2015-04-05")


def test_zones_from_the_declared_country_and_the_domain() -> None:
    assert page_zone("https://ici.radio-canada.ca/x", [], "fr") == "America/Toronto"  # not Paris
    assert page_zone("https://example.com/x", [], "fr", locales=["fr-CA"]) == "America/Toronto"
    assert page_zone("https://example.com/x", [], "de", locales=["de", "en_US"]) == "Europe/Berlin"  # a CMS default
    assert page_zone("https://example.com/x", ["2023-11-09T03:30:59Z"], "en", locales=["en-US"],
                     days=[date(2023, 11, 9)]) == "UTC"  # New York would put it on the 8th
    assert page_zone("https://example.com/x", ["2023-11-09T03:30:59Z"], "en", locales=["en-US"],
                     days=[date(2023, 11, 8)]) == "America/New_York"
    # WordPress writes en_US for any English site: New York may not move an instant to a day the page does not give
    assert page_zone("https://example.com/x", ["2023-11-09T03:30:59Z"], "en", locales=["en-US"]) == "UTC"
    assert page_zone("https://example.com/x", ["2023-11-09T13:30:59Z"], "en", locales=["en-US"]) == "America/New_York"
    assert page_zone("https://example.ca/x", ["2023-11-09T03:30:59Z"], "en") == "America/Toronto"  # the domain's country


def test_midnight_in_utc_is_a_day() -> None:
    """Sites write a day alone as "…T00:00:00Z": in New York it is still that day, not 19:00 the day before."""
    value = datetime(2020, 1, 10, tzinfo=timezone.utc)
    assert local_time(value, "2020-01-10T00:00:00.000Z", "America/New_York").date() == date(2020, 1, 10)
    assert local_time(value, "2020-01-10T00:00:00+00:00", "America/New_York").date() == date(2020, 1, 10)
    assert local_time(value + timedelta(hours=2), "2020-01-10T02:00:00Z", "America/New_York").date() == date(2020, 1, 9)


def test_an_aside_named_for_the_articles_data_is_not_a_side_bar() -> None:
    """alpin.de prints its date (21.01.2022) in ``aside.meta``; its ``<meta name="Date">`` says 26
    January (the last change)."""
    parser = page_parser("dates/alpin.de-freeride.html.gz",
                         "https://www.alpin.de/sicher-am-berg/skitouren/51490/artikel_quantum-free-asolo-factory-130-"
                         "das-beste-aus-der-touring-und-der-freeride-welt-vereint.html")
    assert parser.parse().published_local.startswith("2022-01-21")


def test_an_events_list_is_other_items_and_a_press_dateline_is_the_articles() -> None:
    """ekiba.de lists coming events (15.11.2021 …) after the headline; the text opens with
    "Karlsruhe, (12.11.2021)."."""
    parser = page_parser("dates/ekiba.de-trauer.html.gz",
                         "https://www.ekiba.de/detail/nachricht-seite/id/35204-trauern-digital-am-ewigkeitssonntag/?default=true")
    article = parser.parse()
    assert article.published_local == "2021-11-12T00:00:00+01:00"
    assert article.published_raw == "12.11.2021"
    assert any(found.text == "15.11.2021" and found.other_item for found in parser._visible_dates)


def test_a_date_in_a_link_to_another_page_is_that_pages() -> None:
    """stern.de lists other stories with their ``<time>`` inside the link to each; the article's own
    ``<time>`` links nowhere."""
    url = ("https://www.stern.de/politik/ausland/niederlage-fuer-johnson--parlament-vertagt-votum-ueber-brexit-deal-"
           "8961728.html?utm_campaign=alle&utm_medium=rss-feed&utm_source=standard")
    parser = page_parser("dates/stern.de-brexit.html.gz", url)
    times = {found.text: found.other_item for found in parser._article_times}
    assert times["2019-10-19T14:14:55Z"] is False
    assert times["2019-10-19 14:06"] is True and times["2019-10-18 23:56"] is True
    assert parser.parse().published_local == "2019-10-19T16:14:55+02:00"


def test_a_category_class_is_no_container_of_other_items() -> None:
    """achtundvierzig.hypotheses.org files the post under ``category-veranstaltungen`` (events): the
    post's own ``<time>`` is not an events list's."""
    parser = page_parser("dates/achtundvierzig.hypotheses.org.822.html.gz", "https://achtundvierzig.hypotheses.org/822")
    assert [(found.text, found.other_item) for found in parser._article_times] == [("2015-01-28T15:41:20+01:00", False)]
    assert parser.parse().published_local == "2015-01-28T15:41:20+01:00"


def test_a_date_labelled_as_the_update_loses_to_an_earlier_one() -> None:
    """strangemachines.io prints "03 December 2019" and "Updated … 06 December 2019"; its ``<time>``s
    say the same."""
    parser = page_parser("dates/strangemachines.io.performant.html.gz", "https://strangemachines.io/articles/performant-python")
    assert parser.parse().published_local == "2019-12-03T00:00:00+00:00"
    assert rejected_rules(parser) == ["updated"]
    assert labels_update("Aktualisiert am ") and labels_update("Updated: ") and not labels_update("Published ")


def test_an_unspecific_meta_date_later_than_the_printed_date_is_a_change() -> None:
    """ejwue.de: ``<meta name="date" content="2020-02-12">`` (htmldate reads it too), the article prints
    "05.02.2020" under its headline."""
    parser = page_parser("dates/ejwue.de.lieferketten.html.gz", "https://www.ejwue.de/aktuell/news/faire-lieferketten/")
    assert parser.parse().published_local == "2020-02-05T00:00:00+01:00"
    assert sorted(candidate.kind for candidate, rule in parser._published_decision.rejected
                  if rule == "modified") == ["htmldate", "meta_date"]


def test_a_revision_footer_gives_the_update_and_the_publication() -> None:
    """literaturkritik.de's footer: "Letzte Änderung: 31.10.2023 - 14:49:39 Erschienen am: 01.11.2023";
    htmldate finds the change (31.10.2023) and nothing else on the page says that day."""
    parser = page_parser("dates/literaturkritik.de-Ann-Cotten.html.gz",
                         "https://literaturkritik.de/franke-cotten-die-anleitungen-der-vorfahren,30063.html")
    assert parser.parse().published_local == "2023-11-01T00:00:00+01:00"
    assert sorted((candidate.kind, rule) for candidate, rule in parser._published_decision.rejected
                  if rule == "updated") == [("dateline", "updated"), ("htmldate", "updated")]
    assert labels_publication("Erschienen am: ") and labels_publication("Published on ")


def test_numeric_dates_in_the_pages_order() -> None:
    """nypost.com prints "11/2/23" (linking the archive of 2 November 2023) for the day its data give."""
    url = "https://nypost.com/2023/11/02/news/ai-generated-nudes-of-girls-at-nj-high-school-trigger-police-probe/"
    parser = page_parser("dates/nypost.com-AI-generated.html.gz", url)
    assert parser._day_first is False
    assert local_time(parser._date("11/2/23"), "11/2/23", parser.timezone).date() == date(2023, 11, 2)
    assert parser.parse().published_local.startswith("2023-11-02")


def test_htmldates_month_first_reading_of_a_day_first_page_is_put_right() -> None:
    """htmldate reads a numeric date in the order of the language it detects. No saved page shows
    it, so a small Swiss page: it writes "11/01/2023" only that way round, and day first (its
    locale, ``de-CH``)."""
    html = ('<html lang="de-CH"><body><h1>Titel</h1><p>Publiziert: 11/01/2023</p><p>Ein Text über '
            'Bern, lang genug für einen Artikel.</p></body></html>')
    parser = GenericParser.V1(html, "https://example.ch/a", fetched_at=NOW)
    assert parser._day_first
    assert in_page_order("2023-11-01", parser._numeric_dates, parser._day_first) == "2023-01-11"  # the day meant
    assert in_page_order("2023-01-11", parser._numeric_dates, parser._day_first) == "2023-01-11"
    us = GenericParser.V1(html.replace("de-CH", "en-US"), "https://example.com/a", fetched_at=NOW)
    assert not us._day_first and in_page_order("2023-11-01", us._numeric_dates, us._day_first) == "2023-11-01"


def test_an_iso_instant_printed_in_the_text_keeps_its_seconds_and_zone() -> None:
    """Business Insider prints its byline time as ISO 8601 in UTC ("2024-02-14T16:15:30Z"): the page's
    text gives the whole instant, not a minute on a guessed clock."""
    url = "https://www.businessinsider.com/every-dune-outfit-zendaya-wore-ranked-2024-2"
    html = decoded_text(gzip.decompress((FILES / "fundus/us_BusinessInsider_2024_02_14.html.gz").read_bytes()))
    printed = [dated.text for dated in printed_dates(Selector(text=html))]
    assert "2024-02-14T16:15:30Z" in printed
    stamped = [dated.text for dated in visible_dates(Selector(text=html))]
    assert "2024-02-14T16:15:30Z" in stamped
    article = GenericParser.for_date(NOW.date())(html, url, fetched_at=NOW).parse()
    assert article.published_at == datetime(2024, 2, 14, 16, 15, 30, tzinfo=timezone.utc)


# -- published_local in the item and the pipeline --------------------------------------------------------


@pytest.fixture
def article() -> Article:
    return page_parser("dates/treyhunner.com-pathlib.html.gz",
                       "https://treyhunner.com/2018/12/why-you-should-be-using-pathlib/").parse()


def test_published_local_is_stored_as_given(article: Article) -> None:
    pipeline = CleanPipeline.from_crawler(get_crawler(settings_dict={}))
    assert pipeline.process_item(article).published_local == "2018-12-21T14:00:00-08:00"
    assert article.to_json_dict()["published_local"] == "2018-12-21T14:00:00-08:00"


def test_published_local_follows_published_at_and_must_state_an_offset(article: Article) -> None:
    pipeline = CleanPipeline.from_crawler(get_crawler(settings_dict={}))
    moved = replace(article, published_at=datetime(2018, 12, 22, 9, 30, tzinfo=timezone.utc))
    assert pipeline.process_item(moved).published_local == "2018-12-22T01:30:00-08:00"
    with pytest.raises(InvalidDate):
        pipeline.process_item(replace(article, published_local="2018-12-21T14:00:00"))
