"""Authors, titles and bodies without publisher names, photo credits, bylines or "read also" links.

The page tests run ``python -m newscrawl parse`` (the parser of the URL's site) on the regional
captures in tests/files/regional; the unit tests feed the cleanup functions the strings those
pages (and the Fundus pages) carry.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest

from conftest import FILES
from newscrawl.extract.authors import clean_authors, is_byline
from newscrawl.extract.parser import GenericParser
from newscrawl.extract.text import without_boilerplate
from newscrawl.extract.title import site_names, strip_decoration, without_label
from newscrawl.ops.cli import main

PAGES = {
    "football_ua": ("football_ua_ru_2016-08-15.html", "https://football.ua/germany/311510-podolski-zavershil-kareru-v-sbornojj.html",
                    "2019-06-01T00:00:00Z"),
    "ukrinform": ("ukrinform_ru_2020-09-20.html",
                  "https://www.ukrinform.ru/rubric-kyiv/3103218-policia-napravila-delo-minera-stolicnogo-metro-v-sud.html",
                  "2020-09-20T21:00:00Z"),
    "pravda": ("pravda_ru_2026-01-08.html", "https://www.pravda.com.ua/rus/articles/2026/01/08/8015225/",
               "2026-01-08T17:26:59Z"),
    "tv24": ("24tv_2020-09-21.html", "https://24tv.ua/yak-venediktova-zahishhala-nardepa-vid-slugi-narodu_n1419177",
             "2020-09-21T09:00:00Z"),
    "unn": ("unn_ru_2020-12-03.html",
            "https://www.unn.com.ua/ru/news/1906059-parlament-moldovi-z-podachi-dodona-obmezhiv-povnovazhennya-sandu-sche-do-yiyi-inavguratsiyi",
            "2020-12-03T17:10:00Z"),
}
PRAVDA_AUTHORS = ["Ярослав Кузишин", "Антон Зелинский", "Карина Гасимова"]


def parse_command(name: str) -> dict[str, Any]:
    """What ``python -m newscrawl parse --url URL --fetched-at T FILE`` prints for a regional page."""
    file, url, fetched_at = PAGES[name]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["parse", "--url", url, "--fetched-at", fetched_at, str(FILES / "regional" / file)]) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def parsed() -> dict[str, dict[str, Any]]:
    return {name: parse_command(name) for name in PAGES}


def paragraphs(article: dict[str, Any]) -> list[str]:
    return article["body"].split("\n\n")


def test_site_parsers_on_the_regional_pages(parsed: dict[str, dict[str, Any]]) -> None:
    assert {name: article["parser"].split(".")[0] for name, article in parsed.items()} == {
        "football_ua": "FootballUaParser", "ukrinform": "UkrinformParser", "pravda": "PravdaParser",
        "tv24": "Tv24Parser", "unn": "UnnParser"}


def test_authors_are_people_not_a_photo_credit_or_the_publisher(parsed: dict[str, dict[str, Any]]) -> None:
    """football.ua names no author (its "span.author" is the photo's credit); Ukrinform credits
    itself ("Ukrinform", its publisher "Укринформ"); the others name their journalists."""
    assert parsed["football_ua"]["authors"] == []
    assert parsed["ukrinform"]["authors"] == []
    assert parsed["pravda"]["authors"] == PRAVDA_AUTHORS
    assert parsed["tv24"]["authors"] == ["Віталій Шабунін"]
    assert parsed["unn"]["authors"] == ["Алексей Супрун"]


def test_bodies_end_with_the_article_not_its_byline(parsed: dict[str, dict[str, Any]]) -> None:
    pravda = paragraphs(parsed["pravda"])
    assert pravda[-1].startswith("История ОАСК до сих пор не завершена.")
    assert not any(name in parsed["pravda"]["body"] for name in PRAVDA_AUTHORS)
    assert paragraphs(parsed["ukrinform"])[-1].endswith("хотел временно заблокировать работу подземки.")
    assert paragraphs(parsed["football_ua"])[-1].endswith("другой ее гвардеец – Бастиан Швайнштайгер.")


def test_bodies_without_captions_read_also_links_or_ad_labels(parsed: dict[str, dict[str, Any]]) -> None:
    pravda = paragraphs(parsed["pravda"])
    for caption in ("Павел Вовк", "Евгений Аблов", "Источник: Фундация DEJURE", "Реклама:"):
        assert caption not in pravda
    assert "Читайте также" not in parsed["ukrinform"]["body"]
    assert "Как передает Укринформ, об этом сообщается на сайте Нацполиции." in paragraphs(parsed["ukrinform"])
    tv24 = paragraphs(parsed["tv24"])
    assert not [p for p in tv24 if "/ Фото" in p]
    assert "Матеріали щодо підозри Юрченку" in tv24  # a sub-heading, not furniture


def test_generic_parser_keeps_the_site_credit_and_drops_the_byline_line() -> None:
    """On a site nobody declared, the page's own credit names the newsroom; the byline line at the
    end of the generic extractor's pravda body goes all the same."""
    for name, expected in (("ukrinform", ["Ukrinform"]), ("football_ua", [])):
        file, url, _ = PAGES[name]
        html = (FILES / "regional" / file).read_text(encoding="utf-8")
        assert GenericParser.parse(html, url).authors == expected
    file, url, _ = PAGES["pravda"]
    pravda = GenericParser.parse((FILES / "regional" / file).read_text(encoding="utf-8"), url)
    assert pravda.layers["body"] == "generic"
    assert pravda.body.split("\n\n")[-1].startswith("История ОАСК до сих пор не завершена.")


UKRINFORM_SITES = site_names("https://www.ukrinform.ru/rubric-kyiv/3103218-x.html", ["Укринформ", "Ukrinform"])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["Фото из Инстаграма Лукаша Подольски"], []),
        (["Ukrinform"], []),
        (["Укринформ"], []),
        (["Фото: Reuters"], []),
        (["Photo: Gleb Garanich / REUTERS"], []),
        (["Foto dpa"], []),
        (["Учасники акції біля Ради / REUTERS"], []),
        (["Автор: Віталій Шабунін"], ["Віталій Шабунін"]),
        (["автор Віталій Шабунін"], ["Віталій Шабунін"]),
        (["By Jane Doe jane.doe@example.com"], ["Jane Doe"]),
        (["Ярослав Кузишин, Антон Зелинский, Карина Гасимова"], PRAVDA_AUTHORS),
        (["Mamokete Modiba, Claire Benit-Gbaffou, Sarah Charlton and Tanya Zack"],
         ["Mamokete Modiba", "Claire Benit-Gbaffou", "Sarah Charlton", "Tanya Zack"]),
        (["А. Іваненко, Б. Петренко"], ["А. Іваненко", "Б. Петренко"]),
        (["Іван Франко та Петро Мирний"], ["Іван Франко", "Петро Мирний"]),
        (["Иван Петров и Петр Иванов"], ["Иван Петров", "Петр Иванов"]),
        (["Von Felix Schröder und Jörg Soldwisch, dpa"], ["Felix Schröder", "Jörg Soldwisch", "dpa"]),
        (["Kuckelkorn, Dieter"], ["Dieter Kuckelkorn"]),
        (["Шабунін, В."], ["В. Шабунін"]),
        (["Smith, John; Doe, Jane"], ["John Smith", "Jane Doe"]),
        (["dpa, AFP"], ["dpa", "AFP"]),
        (["srf/hosb"], ["srf/hosb"]),
    ],
)
def test_clean_authors_real_strings(raw: list[str], expected: list[str]) -> None:
    assert clean_authors(raw, UKRINFORM_SITES) == expected


def test_is_byline() -> None:
    assert is_byline("Ярослав Кузишин, Антон Зелинский, Карина Гасимова", PRAVDA_AUTHORS)
    assert is_byline("Автор: Ярослав Кузишин", PRAVDA_AUTHORS)
    assert is_byline("By Jane Doe", ["Jane Doe"])
    assert not is_byline("Ярослав", PRAVDA_AUTHORS)  # no whole name
    assert not is_byline("Антон Зелинский считает иначе", PRAVDA_AUTHORS)
    assert not is_byline("Антон Зелинский", [])


def test_without_boilerplate_real_paragraphs() -> None:
    body = "\n\n".join([
        "Полиция Киева завершила досудебное расследование.",
        "Читайте также: Суд отправил за решетку «минера», который сорвал более сотни заседаний в Оболонском райсуде",
        "Прокурори Венедіктової вивчали матеріали, які обґрунтовують підозру Юрченку / Фото РБК",
        "Реклама:",
        "NOTAS RELACIONADAS",
        "El juez cita como investigado al fiscal general",
        "Albares defiende el embargo de armas a Israel",
        "Read more: Nepal says 'no proof' flydubai plane suffered bird strike",
        "Lesen Sie auch: Steigende US-Zinsen setzen Dax zu",
        "Related to this, the court has not yet ruled.",
        "Правонарушитель задержан в порядке ст. 208 Уголовно-процессуального кодекса Украины.",
        "Підписуйтесь на наш Telegram-канал",
        '© 2006-2019 ООО "ВИДАВНИЦТВО УКРАЇНСЬКИЙ МЕДІА ДІМ"',
    ])
    assert without_boilerplate(body).split("\n\n") == [
        "Полиция Киева завершила досудебное расследование.",
        "Related to this, the court has not yet ruled.",
        "Правонарушитель задержан в порядке ст. 208 Уголовно-процессуального кодекса Украины.",
    ]


def test_without_boilerplate_keeps_copyright_and_subscribe_words_inside_the_article() -> None:
    body = "\n\n".join(["Користувачі не можуть підписатися на канал.", "Subscribe now, said the ad, and many did.",
                        "The last paragraph of the story."])
    assert without_boilerplate(body) == body


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("ВІДЕО: Зеленський зустрівся з Байденом у Вашингтоні", "Зеленський зустрівся з Байденом у Вашингтоні"),
        ("LIVE: Russia's war in Ukraine, day 500", "Russia's war in Ukraine, day 500"),
        ("Exclusive: Nvidia plans a new chip for China", "Nvidia plans a new chip for China"),
        ("Exclusive: Interview", "Exclusive: Interview"),  # no headline after it
        ("Wine Guy: 3 rosé (and rosé adjacent) bottles to sip", "Wine Guy: 3 rosé (and rosé adjacent) bottles to sip"),
        ("Live Nation sues over ticket caps", "Live Nation sues over ticket caps"),
    ],
)
def test_without_label(title: str, expected: str) -> None:
    assert without_label(title) == expected


@pytest.mark.parametrize(
    "title",
    ["Полиция направила дело в суд | Укринформ", "Полиция направила дело в суд - Ukrinform",
     "Полиция направила дело в суд — Укринформ", "ВИДЕО: Полиция направила дело в суд | Укринформ"],
)
def test_strip_decoration_site_suffixes(title: str) -> None:
    assert strip_decoration(title, UKRINFORM_SITES) == "Полиция направила дело в суд"
