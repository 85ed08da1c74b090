"""What the database server in use can do: the one place that knows how nx-27017 differs from MongoDB.

The project is written for MongoDB. With no ``MONGO_URI`` it runs on the embedded nx-27017 0.8.1
(a MongoDB wire-protocol server on SQLite), which differs in the ways :class:`ServerTraits` names
(measured; ``tests/test_storage_contract.py`` checks every claim of the table against the server
in use). Code that depends on one of them asks the named trait and takes the workaround when the
server lacks it; nothing else needs to know which server it talks to.

Where each trait matters:

- ``secondary_in_is_indexed`` and ``secondary_or_is_indexed``: why every lookup of several
  articles at once (dedupe, the incremental check, conflicts, translation links) asks the key
  collection by ``_id`` (:mod:`newscrawl.store.keys`), which both servers answer from the primary
  key, and never ``$in``/``$or`` on another field; the nx-27017 figures are below;
- ``indexed_arrays_queryable``: :func:`newscrawl.store.database.index_models` (the ``tags`` index);
- ``partial_indexes``: the unique ``story_key`` index is partial; without them it covers every
  document, which holds as long as documents without a story id never collide (they do not there);
- avoided everywhere, so no code depends on them: ``push_subdocuments`` and
  ``add_to_set_creates_field`` (aliases ``$set`` whole lists; a SimHash bucket is inserted with
  its first strings and only then given more with ``$addToSet``), ``object_id_equality`` (references
  are looked up with ``$in``), ``compiled_regex_filters`` (``$regex`` strings), ``compound_group_id``
  and ``max_of_dates_is_date`` (statistics query per site, sorted), ``text_needs_index`` (no ``$text``),
  ``set_dates_are_dates`` (documents holding dates are inserted or replaced whole; the key
  collection's journal keeps seconds since the epoch; a revisit's ``removed_at`` is set with
  ``$currentDate``, which stores a date there too).

Slow, not wrong (no trait: the plan nx-27017 explains is not the one it runs): a range on a date
field reads every document of the collection, index or not (1 s at 100,000 articles for a range
that matches 200, against 9 ms for the same range on a number; ``bench/revisits.py``). So
``next_revisit_at``, which each run's choice of the articles to revisit reads as a range, is a
number: seconds since the epoch (:mod:`newscrawl.store.revisits`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pymongo import MongoClient


@dataclass(frozen=True)
class ServerTraits:
    """How one kind of server answers the operations the project uses or avoids (True: as MongoDB)."""

    #: which server ("MongoDB 7.0.4", "nx-27017")
    server: str
    #: ``$in`` on a secondary index uses the index (False: it scans the collection)
    secondary_in_is_indexed: bool
    #: ``$or`` of equalities on indexed fields uses those indexes (False: it scans the collection)
    secondary_or_is_indexed: bool
    #: a query for one element of an indexed array field finds the document (False: it finds nothing)
    indexed_arrays_queryable: bool
    #: a unique index with ``partialFilterExpression`` ignores the documents outside it
    partial_indexes: bool
    #: plain equality on an ObjectId field other than ``_id`` matches (False: only ``$in`` does)
    object_id_equality: bool
    #: ``$push`` of a subdocument stores the subdocument (False: its JSON text)
    push_subdocuments: bool
    #: ``$addToSet`` on a missing field creates the array (False: it does nothing)
    add_to_set_creates_field: bool
    #: a compiled regular expression as a filter value matches (False: an error or nothing)
    compiled_regex_filters: bool
    #: ``$group`` by a document of fields groups by their values (False: by the literal document)
    compound_group_id: bool
    #: ``$max`` of dates in ``$group`` is a date (False: a string)
    max_of_dates_is_date: bool
    #: ``$text`` needs a text index (False: it searches without one)
    text_needs_index: bool
    #: ``$set`` of a date stores a date (False: its text; a date inside a ``$set`` subdocument stays a date)
    set_dates_are_dates: bool


MONGODB = ServerTraits(
    server="MongoDB",
    secondary_in_is_indexed=True,
    secondary_or_is_indexed=True,
    indexed_arrays_queryable=True,
    partial_indexes=True,
    object_id_equality=True,
    push_subdocuments=True,
    add_to_set_creates_field=True,
    compiled_regex_filters=True,
    compound_group_id=True,
    max_of_dates_is_date=True,
    text_needs_index=True,
    set_dates_are_dates=True,
)

NX_27017 = ServerTraits(
    server="nx-27017",
    secondary_in_is_indexed=False,  # 93 ms for 16 keys at 10,000 articles, 1.2 ms per equality lookup
    secondary_or_is_indexed=False,  # 38 ms against 0.6 ms for two equality lookups at 2,000 articles
    indexed_arrays_queryable=False,
    partial_indexes=False,
    object_id_equality=False,
    push_subdocuments=False,
    add_to_set_creates_field=False,
    compiled_regex_filters=False,  # "type 'Regex' is not supported"
    compound_group_id=False,
    max_of_dates_is_date=False,
    text_needs_index=False,
    set_dates_are_dates=False,  # '2026-01-01 00:00:00'
)


def server_traits(client: MongoClient[dict[str, Any]]) -> ServerTraits:
    """The traits of the server ``client`` talks to, from its ``buildInfo`` (nx-27017 reports no
    version). Raises the driver's error when the server does not answer."""
    version = client.server_info().get("version")
    return NX_27017 if version is None else replace(MONGODB, server=f"MongoDB {version}")
