"""Operations: scheduled runs and their lock, run records, alerts, the crawl's outcome and exit
code, the ``python -m newscrawl`` commands and the Scrapy commands that report the outcome."""
