# Heard: `make run` to talk to the assistant, `make test` for the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
# The public data sets training reads (heard/datasets.py): ../shared/data when it's there
# (CI) and HEARD_DATA_DIR isn't set, else the default datasets/ (python -m bot.datasets download).
export HEARD_DATA_DIR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)

.PHONY: install run shell seed train lint test test-fast check validate new-flow bench bench-voice bench-limits fuzz nlu-report eval-conversations clean call agent retention migrate cluster bench-cluster

$(PY):
	@python=$$(scripts/find_python.sh) || exit 1; \
	echo "creating $(VENV) with $$python"; \
	$$python -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml constraints.txt web/package-lock.json
	$(PY) -m pip install --quiet --upgrade "pip<24.1"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	$(PY) -m nlu.encoder  # the sentence encoder's model and tokenizer, checked by sha256
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP)

# The English Vosk model for phone calls; without it (offline) voice is off and chat runs.
run: install
	@$(PY) -m voice.models download || true
	$(PY) -m bot run

shell: install
	$(PY) -m bot shell

seed: install
	$(PY) -m bot seed

# The shop database (DATABASE_URL) to the current schema; `make run` does it on start too.
migrate: install
	$(PY) -m store migrate

# A sign-in for the agent console: make agent USERNAME=sam NAME="Sam Rivera" (asks for the password).
agent: install
	@test -n "$(USERNAME)" -a -n "$(NAME)" || { echo 'usage: make agent USERNAME=sam NAME="Sam Rivera"'; exit 2; }
	$(PY) -m web agents add "$(USERNAME)" --name "$(NAME)"

train: install
	$(PY) -m bot train

# Deletes conversations idle longer than HEARD_RETENTION_DAYS (90), keeping their dashboard
# figures as sums; `make run` does it daily. Counts first: $(PY) -m bot retention --dry-run
retention: install
	$(PY) -m bot retention

# The production topology on this machine: PostgreSQL, Redis and nginx (Debian packages,
# installed here when run as root), 2 action servers and 2 Rasa replicas. Ctrl-C stops it.
cluster: install
	scripts/debian_packages.sh postgresql redis-server nginx
	$(PY) -m bot cluster

# Load and faults against a cluster of its own (about 15 minutes): lost and duplicated
# events, wrong replies, errors, turns/s and latency. QUICK=1 for the short CI version.
bench-cluster: install
	scripts/debian_packages.sh postgresql redis-server nginx
	$(PY) -m bench.cluster $(if $(QUICK),--quick,)

# ruff (lint and format check) and mypy on the product packages; `make test` runs it first.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install lint
	$(PY) -m pytest

# The tests not marked slow (no trained model, no component training, no servers): minutes.
test-fast: install
	$(PY) -m pytest -m "not slow"

# The loop for adding a flow (README, "Extending Heard"): placeholders, lint, the flow tests
# and the data at once (under a minute); then, when the training inputs changed, training
# and every test story, each wrong intent with its top 3 and nearest training examples.
check: install
	$(PY) -m bot check

# Rasa's validation of the data, every finding a failure but responses the code utters.
validate: install
	$(PY) -m bot validate

# A new flow with placeholders to replace: make new-flow NAME=gift_wrap AREA=orders
# (FLAGS=--no-identity for a request without an order, FLAGS=--answer for a fixed reply).
new-flow: install
	@test -n "$(NAME)" || { echo 'usage: make new-flow NAME=gift_wrap AREA=orders [FLAGS=--no-identity|--answer]'; exit 2; }
	$(PY) -m bot new-flow "$(NAME)" $(if $(AREA),--area "$(AREA)",) $(FLAGS)

bench: install
	$(PY) -m bench.turns
	$(PY) -m bench.emotion
	$(PY) -m bench.voice_prosody

# Voice latency, barge-in, recogniser speed and memory per call (about 5 minutes).
bench-voice: install
	$(PY) -m bench.voice

# Hostile messages: 1 MB of each pathological shape while another customer chats, and the
# Rasa server's memory around 100 maximum-length messages (about 2 minutes).
bench-limits: install
	$(PY) -m bench.limits

# 2,000 seeded malformed inputs against its own servers; fails on a 5xx, a silent answer or
# a database change (about 2 minutes).
fuzz: install
	$(PY) -m bench.fuzz

# Talk to the running assistant (`make run`) with this machine's microphone and speaker.
call: install
	$(PY) -m voice.local call

# Intent and entity quality on the never-trained test set, and which intents a change moved:
# per-intent F1 before -> after, against the last model reported (results/nlu-report/) or
# else the previous model in models/ (ARGS="--before MODEL.tar.gz|REPORT.json" to choose);
# then cross-validation on the training data and the thresholds it tunes (README figures).
nlu-report: install
	$(PY) -m bench.nlu_report $(ARGS)
	$(PY) -m bench.nlu_validation

# Whole customer conversations (tests/conversations/) against the real servers: the scorecard.
eval-conversations: install
	$(PY) -m bench.conversations

clean:
	rm -rf $(VENV) models .rasa var results .pytest_cache .mypy_cache .ruff_cache
