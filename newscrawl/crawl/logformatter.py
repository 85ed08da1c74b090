"""Log lines that name an article instead of printing it: no body, no 10 MB title in the log.

Scrapy's own formatter writes the whole item under "Scraped from", "Dropped:" and "Error
processing"; :class:`ArticleLogFormatter` (``LOG_FORMATTER``) writes its URL and the first 80
characters of its title.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter, is_item
from scrapy.logformatter import LogFormatter

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.http import Response
    from scrapy.logformatter import LogFormatterResult
    from twisted.python.failure import Failure

TITLE_CHARACTERS = 80


def item_label(item: Any) -> str:
    """A short name for ``item``: ``<url> "title…"``."""
    if not is_item(item):
        return f"<{type(item).__name__}>"
    adapter = ItemAdapter(item)
    title = str(adapter.get("title") or "")
    if len(title) > TITLE_CHARACTERS:
        title = title[:TITLE_CHARACTERS] + "…"
    return f'<{adapter.get("url")}> "{title}"'


class ArticleLogFormatter(LogFormatter):
    """Scrapy's log formatter with items shown by :func:`item_label`."""

    def scraped(self, item: Any, response: Response | Failure | None, spider: Spider) -> LogFormatterResult:
        """"Scraped from <response> <url> "title"" (DEBUG)."""
        return self._labelled(super().scraped(item, response, spider), item)

    def dropped(self, item: Any, exception: BaseException, response: Response | Failure | None,
                spider: Spider) -> LogFormatterResult:
        """"Dropped: <reason> <url> "title"" at the drop reason's level."""
        return self._labelled(super().dropped(item, exception, response, spider), item)

    def item_error(self, item: Any, exception: BaseException, response: Response | Failure | None,
                   spider: Spider) -> LogFormatterResult:
        """"Error processing <url> "title"" (ERROR)."""
        return self._labelled(super().item_error(item, exception, response, spider), item)

    @staticmethod
    def _labelled(result: LogFormatterResult, item: Any) -> LogFormatterResult:
        result["msg"] = result["msg"].replace("\r\n", " ").replace("\n", " ")  # one line
        result["args"] = {**result["args"], "item": item_label(item)}  # type: ignore[dict-item]
        return result
