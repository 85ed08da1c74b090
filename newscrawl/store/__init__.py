"""Storage: what the crawl asks of it (``protocol``) and the extension that answers (``service``);
the write path (``sink``: the lookup batcher ``lookups``, the resilient writer ``resilient``, spill
and quarantine ``spill``, the MongoDB adapter ``mongo``); the database and its indexes
(``database``), the embedded server (``server``), the bulk writer with revisions (``writer``), the
key collection (``keys``), the deduper (``dedupe``), spill and quarantine files (``files``), what
failures mean (``errors``) and the one module that knows how the embedded server differs from
MongoDB (``nx``)."""
