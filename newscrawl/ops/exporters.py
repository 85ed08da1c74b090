"""Flat forms of an article for tabular and XML output: ``scrapy crawl -O out.csv``/``out.xml``
and ``newscrawl export --format csv``.

The two CSV outputs write their cells by the same rules (:func:`flat_cell`) but not the same
columns: a crawl's ``-O out.csv`` has one for every field of the item (29: the
:class:`~newscrawl.extract.items.Article` fields), ``export --format csv`` the 14 of
:data:`newscrawl.ops.query.CSV_COLUMNS`, read back from the database.

CSV cells: no value is an empty cell (never "None"); dates are ISO 8601; a list of names or tags
is joined with "; "; structured values (images, layers, other sites' copies) are JSON. A text cell
that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) starts with a ``'`` instead, as OWASP's guidance on CSV injection says: the
spreadsheet shows the text. :func:`flat_cell` is the one place a stored value becomes a CSV cell.
JSON lines, XML and the database keep the true text. XML: a field without a value is left out;
pictures are ``<images><value><url>…</url><caption>…</caption>…``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any

from scrapy.exporters import CsvItemExporter, XmlItemExporter

LIST_SEPARATOR = "; "
#: how a cell a spreadsheet runs as a formula starts (OWASP, CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses (pictures) as dicts, dates as ISO 8601 strings."""
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def inert_text(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it: a leading ``'`` when it starts like a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def flat_cell(value: Any) -> str:
    """One CSV cell for ``value`` (see the module's rules); a number stays a number."""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, (bool, int, float)):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return inert_text(LIST_SEPARATOR.join(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return inert_text(str(value))


class FlatCsvItemExporter(CsvItemExporter):
    """Scrapy's CSV exporter with one flat cell per field (:func:`flat_cell`)."""

    def serialize_field(self, field: Any, name: str, value: Any) -> str:
        return flat_cell(value)


class PlainXmlItemExporter(XmlItemExporter):
    """Scrapy's XML exporter with pictures as elements, ISO dates, and no element for a missing value."""

    def serialize_field(self, field: Any, name: str, value: Any) -> Any:
        return plain(value)

    def _export_xml_field(self, name: str, serialized_value: Any, depth: int) -> None:
        if serialized_value is None or serialized_value in ("", [], {}):
            return
        super()._export_xml_field(name, serialized_value, depth)
