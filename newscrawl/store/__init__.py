"""Storage: the service a crawl owns (opened with ``from_crawler``), the embedded server, the bulk
writer with revisions, spill and quarantine files, the dedupe index and the one adapter that knows
how the embedded nx-27017 server differs from MongoDB."""
