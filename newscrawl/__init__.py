"""newscrawl: a Scrapy crawler for regional news sites that yields normalized articles."""

__version__ = "0.1.0"
