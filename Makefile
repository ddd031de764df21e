# Build, test and demo from a clean clone: `make test`, `make demo`, `make clean`.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: all venv browser test demo bench bench-long clean

all: test

# The stamp depends on pyproject.toml, so changed dependencies reinstall.
$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

venv: $(STAMP)

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here) and need a CJK font to
# render the pages; installed with apt when missing, as on CI (root).
browser:
	command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-microhei; }

test: $(STAMP) browser
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
