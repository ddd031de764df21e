# Build, test and demo from a clean clone: `make test`, `make demo`, `make clean`.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
# pywb, the replay tool the tests check our WARC files against, pins redis 2.10.6, which scrapy-redis (redis >= 4.2)
# cannot share: it gets a venv of its own. Nothing of ours is imported there; the tests run its wb-manager and server.
PYWB_VENV := .venv-pywb
PYWB_STAMP := $(PYWB_VENV)/.installed
PYWB_SPEC := pywb>=2.10

.PHONY: all venv browser test demo bench bench-long clean

all: test

# The stamp depends on pyproject.toml, so changed dependencies reinstall.
$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

$(PYWB_STAMP): Makefile
	test -x $(PYWB_VENV)/bin/python || $(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYWB_VENV)/bin/python -m pip install --quiet '$(PYWB_SPEC)'
	touch $(PYWB_STAMP)

venv: $(STAMP) $(PYWB_STAMP)

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here) and need a CJK font to
# render the pages; installed with apt when missing, as on CI (root).
browser:
	command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-microhei; }

test: $(STAMP) $(PYWB_STAMP) browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -q

demo: $(STAMP)
	$(VENV)/bin/newsarchive demo

# One run, one table (also JSON under bench/results/): scrapy bench, our crawl of 2,000 replica articles,
# the cleaner beside trafilatura, the crawl's peak memory at 1,000 articles. bench-long adds 20,000.
bench: $(STAMP)
	$(VENV)/bin/python bench/bench_crawl.py --articles 2000 --rss 1000

bench-long: $(STAMP)
	$(VENV)/bin/python bench/bench_crawl.py --articles 2000 --rss 1000 20000

clean:
	rm -rf demo-archive
