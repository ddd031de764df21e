"""Distributed crawls: workers on one or several machines sharing one frontier, article index and politeness budget.
The frontier is scrapy-redis's (its scheduler, priority queue and duplicate filter); the rest is ours, kept in Redis."""
