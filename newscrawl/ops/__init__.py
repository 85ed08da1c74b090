"""Operations: scheduled runs and their lock, run records, alerts, the ``python -m newscrawl``
commands and the Scrapy commands that exit with the crawl's outcome and check site fixtures."""
