"""The generic parser's title, date, author and language layers on real pages of other countries.

Pages and the Fundus answers they are checked against: tests/files/fundus/README.md. Each page was
wrong before the layer it tests existed (a kicker or site name in the title, a local time read in
the wrong zone, JSON-LD in a CDATA wrapper, an unsplit or missing byline).
"""

from __future__ import annotations

import gzip
from datetime import datetime, timezone

import pytest

from conftest import FILES
from newscrawl.extract.authors import clean_authors
from newscrawl.extract.encoding import decoded_text
from newscrawl.extract.language import guess_language
from newscrawl.extract.timezones import offset_zone, page_zone
from newscrawl.extract.title import site_names, strip_decoration
from newscrawl.extract.items import FILL_FIELDS, PARSED_FIELDS, Article
from newscrawl.extract.parser import ArticleParser, GenericParser, field_methods

FETCHED = datetime(2026, 11, 1, tzinfo=timezone.utc)


def parse(name: str, url: str) -> Article:
    html = gzip.decompress((FILES / "fundus" / name).read_bytes()).decode("utf-8")
    return GenericParser.parse(html, url, fetched_at=FETCHED)


def test_every_field_the_parser_gives_has_its_method_which_a_site_parser_may_override() -> None:
    assert set(field_methods(ArticleParser)) == set(PARSED_FIELDS) >= set(FILL_FIELDS)

    class Headlines(GenericParser):
        class V1(GenericParser.V1):
            def title(self) -> str | None:
                return "Every headline is this one"

    html = gzip.decompress((FILES / "fundus" / "de_NTV_2023_04_28.html.gz").read_bytes()).decode("utf-8")
    article = Headlines.parse(html, "https://www.n-tv.de/leben/article24075843.html", fetched_at=FETCHED)
    assert article.title == "Every headline is this one" and article.authors == ["Juliane Rohr"]


def test_ntv_kicker_dropped_and_local_time_read_in_berlin() -> None:
    """JSON-LD says "Neue Leipziger Schule: Judy Lybke, ..." and og:title the bare headline;
    the date "2023-04-28 18:11:01.0" has no offset and n-tv.de is a German site."""
    article = parse("de_NTV_2023_04_28.html.gz",
                    "https://www.n-tv.de/leben/Judy-Lybke-ganz-und-gar-nicht-eigenartig-article24075843.html")
    assert article.title == "Judy Lybke, ganz und gar nicht eigenartig"
    assert article.published_raw == "2023-04-28 18:11:01.0"
    assert article.published_at == datetime(2023, 4, 28, 16, 11, 1, tzinfo=timezone.utc)
    assert article.authors == ["Juliane Rohr"]


def test_krautreporter_jsonld_in_cdata() -> None:
    """The JSON-LD block is wrapped in ``//<![CDATA[ ... //]]>``; its author is a person."""
    article = parse("de_Krautreporter_2024_08_22.html.gz",
                    "https://krautreporter.de/politik-und-macht/5481-ich-wollte-dass-sie-mich-mogen-so-uberlebt-man")
    assert article.published_source == "jsonld"
    assert article.published_at == datetime(2024, 8, 22, 10, 0, tzinfo=timezone.utc)
    assert article.authors == ["Shany Littman"]


def test_landesspiegel_time_element_byline_and_site_suffix() -> None:
    """No JSON-LD: og:title ends in " - Landesspiegel", the date is a ``<time datetime>`` in the
    entry header and the author a byline link."""
    article = parse("li_Landesspiegel_2026_01_27.html.gz",
                    "https://landesspiegel.li/2026/01/eu-und-indien-besiegeln-groesstes-freihandelsabkommen-ihrer-geschichte/")
    assert article.title == "EU und Indien besiegeln grösstes Freihandelsabkommen ihrer Geschichte"
    assert article.published_source == "generic"  # page structure, not a site selector
    assert article.published_at == datetime(2026, 1, 27, 11, 13, 17, tzinfo=timezone.utc)
    assert article.authors == ["Gregor Meier"]
    assert article.layers["authors"] == "generic"


def test_thenation_byline_without_by() -> None:
    """No author in JSON-LD or meta; the byline reads "By Sarah Lazare"."""
    article = parse("us_TheNation_2023_05_15.html.gz", "https://www.thenation.com/article/activism/teamsters-tdu-ups-iowa/")
    assert article.title == "Inside a Teamster Rebellion: This Is What Union Democracy Looks Like"
    assert article.authors == ["Sarah Lazare"]
    assert article.published_at == datetime(2023, 5, 15, 9, 0, 37, tzinfo=timezone.utc)


def test_dailymaverick_one_author_string_split_into_people() -> None:
    article = parse("za_DailyMaverick_2026_01_06.html.gz",
                    "https://www.dailymaverick.co.za/article/2026-01-06-joburg-has-failed-its-informal-traders-t-there-is-a-solution-heres-what-the-city/")
    assert article.authors == ["Mamokete Modiba", "Claire Benit-Gbaffou", "Sarah Charlton", "Tanya Zack"]


def dates_page(name: str, url: str) -> Article:
    """A page of the dates development set (tests/files/dates/README.md) by the generic parser."""
    html = decoded_text(gzip.decompress((FILES / "dates" / name).read_bytes()))
    return GenericParser.parse(html, url, fetched_at=FETCHED)


def test_text_after_an_inline_comment_is_kept() -> None:
    """BBC's React markup separates a paragraph's link from the rest with ``<!-- -->``; trafilatura,
    given a tree with the comment in it, dropped the rest of the paragraph with the comment."""
    article = parse("uk_BBC_2024_08_01.html.gz", "https://www.bbc.com/news/explainers-63159607")
    paragraphs = article.body.split("\n\n")
    assert ("This means some of the government's borrowing costs are determined by how the financial markets "
            "respond to the OBR's assessments and forecasts.") in paragraphs  # Fundus's paragraph
    assert "A new law is set to prevent any future government sidelining the OBR." in paragraphs


def test_a_data_table_is_kept_row_by_row() -> None:
    """The article is a league table: each row a paragraph, its cells separated by " | "."""
    article = dates_page("90min.de-Bundesliga-Tabelle.html.gz",
                         "https://www.90min.de/posts/bundesliga-tabelle-2023-24-ohne-fehlentscheidungen-01hdgzyyg1b1")
    paragraphs = article.body.split("\n\n")
    assert "Rang | DFL-Tabelle | Wahre Tabelle" in paragraphs
    assert "1. | Leverkusen (28 Pkt) | Leverkusen (28 Pkt)" in paragraphs
    assert "18. | Köln (5 Pkt) | Köln (5 Pkt)" in paragraphs


def test_a_layout_table_is_read_as_text_not_as_a_table() -> None:
    """kath.net lays its whole page out in a table: the article's paragraphs come out as paragraphs,
    and the cells of its side columns (the login box, the "Top-15" lists) do not come in."""
    article = dates_page("kath.net-Menschensohn.html.gz", "https://kath.net/news/76785")
    paragraphs = article.body.split("\n\n")
    assert any(p.startswith("Rom (kath.net/as) Freitag der 32. Woche im „Jahreskreis“") for p in paragraphs)
    assert not any(p.startswith(("Login", "Top-15", "meist-")) for p in paragraphs)


@pytest.mark.parametrize(("name", "url"), [
    ("werkzeugforum.de-heizjacke.html.gz", "https://www.werkzeugforum.de/heizjacken-von-bosch/"),  # the form's "Name *"
    ("mein-haustier.de-hund.html.gz", "https://www.mein-haustier.de/hund/eat-small/"),  # a commenter, "Unbenannt"
    ("japantimes.co.jp.surgical.html.gz",  # <meta name="author" content="No Author">
     "https://www.japantimes.co.jp/news/2020/02/18/national/crime-legal/6000-surgical-masks-stolen/"),
])
def test_comment_forms_commenters_and_placeholders_are_no_authors(name: str, url: str) -> None:
    """None of these pages names its author; their byline-looking markup is a comment form's label,
    a comment's author or a placeholder."""
    assert dates_page(name, url).authors == []


def test_labels_placeholders_and_commenters_are_no_names() -> None:
    assert clean_authors(["Name *", "Name", "admin", "No Author", "Jane Doe says", "Max Muster sagt:"]) == []
    assert clean_authors(["Jane Doe", "By Adam Smith"]) == ["Jane Doe", "Adam Smith"]


def test_language_guessed_when_the_page_declares_none() -> None:
    """football.ua's page has no ``<html lang>``, JSON-LD or og:locale; its text is Russian."""
    html = (FILES / "regional" / "football_ua_ru_2016-08-15.html").read_bytes().decode("utf-8", "replace")
    article = GenericParser.parse(html, "http://localhost:8000/germany/311510.html", fetched_at=FETCHED)
    assert article.language == "ru"


@pytest.mark.parametrize(
    ("title", "url", "names", "expected"),
    [
        ("Ukrainische Gegenoffensive | DW | 28.04.2023", "https://www.dw.com/de/x", ["DW.COM"],
         "Ukrainische Gegenoffensive"),
        ("LTE-Patent: Samsung soll Smartphones zerstören - Golem.de", "https://www.golem.de/x", [],
         "LTE-Patent: Samsung soll Smartphones zerstören"),
        ("Plot Twist | The Gateway Pundit | by Cristina Laila", "https://www.thegatewaypundit.com/x", [], "Plot Twist"),
        ("„Unermüdlicher Einsatz“ - Die Neue Südtiroler Tageszeitung", "https://www.tageszeitung.it/x", [],
         "„Unermüdlicher Einsatz“"),
        ("IRCC can't accommodate RTO-4", "https://ottawacitizen.com/x", ["Ottawa Citizen"],
         "IRCC can't accommodate RTO-4"),
        ("Krieg in Nahost - Was wir wissen", "https://www.zdf.de/x", ["ZDFheute"], "Krieg in Nahost - Was wir wissen"),
    ],
)
def test_strip_decoration(title: str, url: str, names: list[str], expected: str) -> None:
    assert strip_decoration(title, site_names(url, names)) == expected


def test_strip_decoration_of_a_section() -> None:
    sites = site_names("https://www.dw.com/de/x", ["DW.COM"])
    assert strip_decoration("Gegenoffensive | Europa | DW | 28.04.2023", sites, ["Europa"]) == "Gegenoffensive"
    assert strip_decoration("Gegenoffensive | Europa | DW", sites) == "Gegenoffensive | Europa"


def test_clean_authors() -> None:
    sites = site_names("https://www.bbc.co.uk/news/x", ["BBC News"])
    assert clean_authors(["Von Felix Schröder und Jörg Soldwisch, dpa"], sites) == ["Felix Schröder", "Jörg Soldwisch", "dpa"]
    assert clean_authors(["Elena Oberholzer (obe)", "d.kuckelkorn@example.de", "BBC News"], sites) == ["Elena Oberholzer"]
    assert clean_authors(["By Jane Doe | 05. November 2024"], sites) == ["Jane Doe"]
    assert clean_authors(["BBC News"]) == ["BBC News"]  # an organization's byline, kept when asked


def test_zones() -> None:
    assert offset_zone("2024-04-25T14:07:00+02:00") == "Etc/GMT-2"
    assert offset_zone("2024-04-25T14:07:00-0500") == "Etc/GMT+5"
    assert offset_zone("2024-04-25T14:07:00Z") is None
    assert page_zone("https://www.n-tv.de/x", [], None) == "Europe/Berlin"
    assert page_zone("https://example.com/x", ["2024-04-25 14:07", "2024-04-25T14:07:00+09:00"], "en") == "Etc/GMT-9"
    assert page_zone("https://example.com/x", [], "de") == "Europe/Berlin"
    assert page_zone("https://example.com/x", [], "en") == "UTC"


def test_guess_language_does_not_call_german_english() -> None:
    assert guess_language("Die Bundesregierung hat am Mittwoch beschlossen, dass die Steuer sinkt.") is None
    assert guess_language("The government decided on Wednesday that the tax will fall for everyone.") == "en"
