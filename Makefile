# bert-poet: `make run` serves the app, `make test` runs the suite. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch lies in /opt/wheels on our machines; pip must take it from there.
WHEELS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)
GENERATED := proto/poet/v1/poet_pb2.py proto/poet/v1/poet_pb2.pyi proto/poet/v1/poet_pb2_grpc.py

.PHONY: run test install proto data train export bench clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(WHEELS) -r requirements.txt
	touch $@

install: $(BIN)/.installed

$(GENERATED): proto/poet/v1/poet.proto $(BIN)/.installed
	$(BIN)/python -m proto.build

proto: $(GENERATED)

run: install proto  ## model server + web app on localhost
	$(BIN)/python -m server.run

test: install proto  ## the whole suite
	$(BIN)/python -m pytest

data: install  ## corpus -> data/*.jsonl, and the masters' usage the engine's rules read
	$(BIN)/python -m model.data
	$(BIN)/python -m model.usage

train: install  ## see model/MODEL_CARD.md for the runs that made the shipped weights
	bash model/train_pipeline.sh

export: install  ## shipped weights -> OpenVINO IR
	$(BIN)/python -m model.export

bench: install proto  ## engine speed and poem quality
	$(BIN)/python -m bench.engine
	$(BIN)/python -m bench.quality

clean:
	rm -rf $(VENV) .pytest_cache
