"""Lets `scrapyd-deploy` build an egg with the package data; the project itself is in pyproject.toml."""

from setuptools import setup

setup()
