"""Storage: the service a crawl owns (``service``, opened with ``from_crawler``), the database and
its indexes (``database``), the embedded server (``server``), the bulk writer with revisions
(``writer``), spill and quarantine files (``files``), what failures mean (``errors``), an
article's identity (``identity``), the dedupe index (``dedupe``), the write path (``sink``) and
the one adapter that knows how the embedded server differs from MongoDB (``nx``)."""
