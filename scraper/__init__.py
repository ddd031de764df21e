"""The newsarchive Scrapy project: spiders, items, pipelines, middlewares, settings and the CLI."""
