# Two commands for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP_FLAGS ?= --disable-pip-version-check --quiet

.PHONY: demo test lint typecheck browser mailtools corpus bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install $(PIP_FLAGS) -e ".[test]"
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/syndicate --config config/syndicate.toml --now 2026-11-23T13:00:00+00:00 run --once
	@echo "to use syndicate from any folder: export PATH=\"$(abspath $(BIN)):\$$PATH\""

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

# The browser test drives Debian's Chromium through its chromedriver (no browser download).
# Without root or apt it is skipped, with the reason in pytest's summary.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } ; } || \
	  echo "chromium not installed: the browser test will be skipped"

# SpamAssassin (the spam score test) and Dovecot's IMAP server (the bounce mailbox tests,
# which start their own dovecot on loopback as the current user): Debian's packages, like
# Chromium. Without root or apt those tests are skipped, with the reason.
mailtools:
	@command -v spamassassin >/dev/null && test -x /usr/sbin/dovecot || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq spamassassin dovecot-imapd >/dev/null; } ; } || \
	  echo "spamassassin or dovecot-imapd not installed: their tests will be skipped"

# Peers the tests hold our output and intake against, kept outside the package: feedparser's
# own test corpus (its sdist ships tests/) and two npm feed parsers. Without the network or
# npm the tests that need them are skipped, with the reason.
CACHE := .cache
FEEDPARSER_VERSION := 6.0.14

$(CACHE)/feedparser-tests/.done: | $(BIN)/python
	@mkdir -p $(CACHE)/download $(CACHE)/feedparser-tests
	@{ $(BIN)/pip download $(PIP_FLAGS) --no-binary :all: --no-deps \
	     "feedparser==$(FEEDPARSER_VERSION)" -d $(CACHE)/download && \
	   tar xzf $(CACHE)/download/feedparser-$(FEEDPARSER_VERSION).tar.gz \
	     -C $(CACHE)/feedparser-tests --strip-components=1 \
	     feedparser-$(FEEDPARSER_VERSION)/tests && touch $@ ; } || \
	  echo "feedparser's sdist not downloaded: the corpus test will be skipped"

# RSS and Atom: rss-parser, @rowanmanning/feed-parser; JSON Feed: feedsmith,
# @extractus/feed-extractor. The marker names the set, so adding a parser installs again.
NPM_PARSERS := rss-parser@3 @rowanmanning/feed-parser@1 feedsmith@3 @extractus/feed-extractor@8
NPM_DONE := $(CACHE)/npm/.done-rss-atom-json

$(NPM_DONE):
	@command -v npm >/dev/null && \
	  npm install --silent --no-audit --no-fund --prefix $(CACHE)/npm \
	    $(NPM_PARSERS) >/dev/null && touch $@ || \
	  echo "npm or its registry unavailable: the npm parser tests will be skipped"

corpus: $(CACHE)/feedparser-tests/.done $(NPM_DONE)

test: lint typecheck browser mailtools corpus
	$(BIN)/pytest -n 2 --dist loadgroup
	$(BIN)/pytest -n 2 --dist loadgroup -m slow

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_pipeline.py

clean:
	rm -rf $(VENV) var examples/var .pytest_cache .mypy_cache .ruff_cache $(CACHE)
