# bert-poet: `make run` serves the app, `make test` runs the suite. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch lies in /opt/wheels on our machines; pip must take it from there.
WHEELS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)

.PHONY: run test test-fast lint format install install-dev install-ray proto data train export bench clean

# Serving only (requirements.txt, no torch), then the project itself, editable, for its console
# scripts bert-poet, poet and poet-batch. The gRPC code is committed, so serving needs no codegen.
$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Training, export, codegen and tests, on top of serving.
$(BIN)/.installed-dev: requirements-dev.txt $(BIN)/.installed
	$(BIN)/pip install --quiet $(WHEELS) -r requirements-dev.txt
	touch $@

# The batch job on Ray (server.ray_batch), for its tests and a cluster's nodes: heavy, and no part of serving.
$(BIN)/.installed-ray: requirements-ray.txt $(BIN)/.installed
	$(BIN)/pip install --quiet -r requirements-ray.txt
	touch $@

install: $(BIN)/.installed

install-dev: $(BIN)/.installed-dev

install-ray: $(BIN)/.installed-ray

run: install  ## model server + web app on localhost
	$(BIN)/python -m server.run

test: install-dev install-ray lint  ## lint, then the whole suite (tests/test_proto.py checks the committed gRPC code)
	$(BIN)/python -m pytest

test-fast: install-dev install-ray  ## the rules, the client, the web app and the conversions: no model, no subprocess, no browser
	$(BIN)/python -m pytest -m "not slow and not browser"

lint: install-dev  ## ruff's checks ([tool.ruff] in pyproject.toml)
	$(BIN)/ruff check .

format: install-dev  ## rewrite the code in ruff's format, and fix what ruff's checks can fix by themselves
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

proto: install-dev  ## regenerate the gRPC code after editing poet.proto
	$(BIN)/python -m proto.build

data: install-dev  ## corpus -> data/*.jsonl, and the masters' usage the engine's rules read
	$(BIN)/python -m model.data
	$(BIN)/python -m model.usage
	$(BIN)/python -m model.tunes

train: install-dev  ## see model/MODEL_CARD.md for the runs that made the shipped weights
	bash model/train_pipeline.sh

export: install-dev  ## shipped weights -> OpenVINO IR
	$(BIN)/python -m model.export

bench: install-dev  ## engine speed and poem quality
	$(BIN)/python -m bench.engine
	$(BIN)/python -m bench.quality

clean:
	rm -rf $(VENV) .pytest_cache
