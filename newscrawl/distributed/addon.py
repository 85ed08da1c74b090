"""The Scrapy add-on that turns a shared crawl on when ``NEWSCRAWL_REDIS_URL`` is set."""

from __future__ import annotations

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings

from newscrawl.distributed.redis import redis_url


class RedisAddon:
    """Scrapy add-on: the shared scheduler when ``NEWSCRAWL_REDIS_URL`` is set, else nothing."""

    def update_settings(self, settings: BaseSettings) -> None:
        """Switch scheduler, duplicate filter and the worker extension on."""
        if not redis_url(settings):
            return
        middlewares = settings.getdict("SPIDER_MIDDLEWARES")
        # outside HttpError: sees filtered responses
        middlewares["newscrawl.distributed.middleware.ReleaseWhenDone"] = 10
        for name, value in (("SCHEDULER", "newscrawl.distributed.scheduler.SharedScheduler"),
                            ("DUPEFILTER_CLASS", "newscrawl.distributed.dupefilter.BloomDupeFilter"),
                            ("SPIDER_MIDDLEWARES", middlewares)):
            # over the project's settings (newscrawl/settings.py), under the command line's
            if (settings.getpriority(name) or 0) <= SETTINGS_PRIORITIES["project"]:
                settings.set(name, value, "project")
