"""The last extraction layer: a site-agnostic body extractor (trafilatura)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import trafilatura
from lxml.etree import Element, _Element
from lxml.html import HtmlElement
from trafilatura.xml import xmltotxt

from newscrawl.extract.jsonld import MAX_BLOCK_CHARS, load_block
from newscrawl.extract.text import HIDDEN_TAGS, clean_line, join_paragraphs, without_hidden_elements

logger = logging.getLogger(__name__)
# trafilatura logs ERROR for every page without a main text (feeds, block pages); for us that is
# an expected answer, reported by the parser as NotAnArticle and counted, not a log-worthy error.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


#: the start of an HTML document, looked for in a page's first characters
_HTML_START = re.compile(r"<(?:!doctype|html|head|body|meta|title)\b", re.IGNORECASE)
_HTML_START_CHARS = 4096
#: characters of a data table's cell at most: a longer one is prose laid out in a table
_MAX_CELL_CHARS = 500
#: rows, columns and cells from which a table without other signs is a data table (as Readability decides)
_DATA_ROWS, _DATA_COLUMNS, _DATA_CELLS = 10, 4, 10
#: separator of a table row's cells in the body text
CELL_SEPARATOR = " | "
#: a layout table's own parts, not those of a table inside it
_LAYOUT_PARTS = ". | ./thead | ./tbody | ./tfoot | ./tr | ./*/tr | ./tr/td | ./tr/th | ./*/tr/td | ./*/tr/th"


def looks_like_html(text: str, tree: HtmlElement) -> bool:
    """Whether a page is HTML at all (trafilatura checks a string, not a tree): its first
    characters open a document, or it parsed into more than one top element; binary data served
    as ``text/html`` does neither. Pages that start with a server's warning pass."""
    return bool(_HTML_START.search(text[:_HTML_START_CHARS])) or len(tree) >= 2


def _span(cell: HtmlElement) -> int:
    value = cell.get("colspan", "1").strip()
    return min(int(value), _DATA_COLUMNS + 1) if value.isdigit() and value != "0" else 1


def is_layout_table(table: HtmlElement) -> bool:
    """Whether a ``<table>`` lays out a page rather than holding data (results, ingredients,
    schedules), by the signs Mozilla's Readability reads: declared so (``role=presentation``,
    ``datatable=0``); else data when it has a caption, a summary, header cells or column groups; else
    laid out when it holds another table, has one row or one column, or a cell of prose (longer than
    :data:`_MAX_CELL_CHARS`); else data when it has many rows, columns or cells."""
    if table.get("role") in ("presentation", "none") or table.get("datatable") == "0":
        return True
    rows = table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")
    cells = [row.xpath("./td | ./th") for row in rows]
    if table.xpath("./caption | ./colgroup | ./thead") or table.get("summary") or any(
            cell.tag == "th" for row in cells for cell in row):
        return False
    if table.find(".//table") is not None:
        return True
    columns = max((sum(map(_span, row)) for row in cells), default=0)
    if len(rows) <= 1 or columns <= 1:
        return True
    if any(len(cell.text_content()) > _MAX_CELL_CHARS for row in cells for cell in row):
        return True
    return len(rows) < _DATA_ROWS and columns <= _DATA_COLUMNS and len(rows) * columns <= _DATA_CELLS


@contextmanager
def _layout_tables_as_containers(tree: HtmlElement) -> Iterator[HtmlElement]:
    """``tree`` with its layout tables (see :func:`is_layout_table`) renamed ``<div>``, rows and cells
    too, while the block runs (trafilatura reads them as any other block, never as a table; it works
    on a copy); their names are put back after."""
    renamed = [(element, element.tag) for table in list(tree.iter("table")) if is_layout_table(table)
               for element in table.xpath(_LAYOUT_PARTS)]
    for element, _ in renamed:
        element.tag = "div"
    try:
        yield tree
    finally:
        for element, tag in renamed:
            element.tag = tag


#: markup in a JSON-LD ``articleBody`` whose text is no article's: scripts, styles, embeds
_HIDDEN_IN_BODY = re.compile(rf"<(?:{'|'.join(HIDDEN_TAGS)})\b", re.IGNORECASE)


def _without_hidden_bodies(value: Any) -> Any:
    """``value`` (parsed JSON-LD) with every ``articleBody`` holding scripts, styles or embeds
    rid of them, their text included."""
    if isinstance(value, list):
        return [_without_hidden_bodies(item) for item in value]
    if isinstance(value, dict):
        return {key: without_hidden_elements(item) if key == "articleBody" and isinstance(item, str)
                else _without_hidden_bodies(item) for key, item in value.items()}
    return value


@contextmanager
def _json_ld_bodies_without_scripts(tree: HtmlElement) -> Iterator[HtmlElement]:
    """``tree`` with the scripts, styles and embeds of its JSON-LD ``articleBody`` values taken out
    while the block runs (trafilatura's last resort reads ``articleBody`` and keeps a script's text
    as words of the article); the blocks are put back after. Only a block that holds such markup
    is touched."""
    changed = []
    for block in tree.iter("script"):
        raw = block.text or ""
        if "ld+json" not in (block.get("type") or "") or len(raw) > MAX_BLOCK_CHARS \
                or "articleBody" not in raw or not _HIDDEN_IN_BODY.search(raw):
            continue
        parsed = load_block(raw)
        if parsed is None:
            continue
        changed.append((block, raw))
        block.text = json.dumps(_without_hidden_bodies(parsed), ensure_ascii=False)
    try:
        yield tree
    finally:
        for block, raw in changed:
            block.text = raw


def _paragraph(text: str) -> _Element:
    paragraph = Element("p")
    paragraph.text = text
    return paragraph


def _cell_text(cell: _Element) -> str:
    return clean_line(" ".join(cell.itertext()))


def _text_with_tables(body: _Element) -> str:
    """The text of trafilatura's output ``body``, each row of its tables a paragraph with its cells
    joined by :data:`CELL_SEPARATOR` (a table inside a cell joins its cell's text)."""
    for table in reversed(list(body.iter("table"))):  # the innermost first: an outer one holds its text
        parent = table.getparent()
        if parent is None:
            continue
        rows = [CELL_SEPARATOR.join(filter(None, map(_cell_text, row.iterchildren("cell"))))
                for row in table.iterchildren("row")]
        tail = clean_line(table.tail)
        position = parent.index(table)
        parent[position:position + 1] = [_paragraph(text) for text in (*rows, tail) if text]
    return xmltotxt(body, False)


def generic_body(tree: HtmlElement, url: str | None = None) -> str | None:
    """The main text of an article page (its parsed ``tree``, without comments: trafilatura works on
    a copy), paragraphs separated by blank lines; None if none found.

    Data tables are kept, each row a paragraph with its cells separated by " | "; layout tables are
    read as plain containers (see :func:`is_layout_table`). trafilatura's metadata is not asked for:
    the parser reads its own, and keeps the headline and the byline out of the text itself."""
    try:
        with _layout_tables_as_containers(tree) as laid_out, _json_ld_bodies_without_scripts(laid_out) as read:
            document = trafilatura.bare_extraction(
                read,
                url=url,
                with_metadata=False,
                include_comments=False,
                include_tables=True,
                include_images=False,
                include_links=False,
            )
    except Exception:  # trafilatura raises assorted errors on hostile markup
        logger.warning("generic extractor failed on %s", url, exc_info=True)
        return None
    if document is None:
        return None
    body = getattr(document, "body", None)
    text = _text_with_tables(body) if body is not None and body.find(".//table") is not None else document.text
    return join_paragraphs(text.split("\n")) if text else None
