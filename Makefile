# The two README commands: `make demo` (install, then the main job) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# This machine's local CPU wheel; an unpinned torch would pull several GB of CUDA packages.
TORCH  ?= torch==2.13.0

.PHONY: install demo test bench bench-all clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# conlleval.pl, the oracle of entity F1, ships only in seqeval's source release
	$(BIN)/python -m pip download --quiet --no-deps --no-binary :all: seqeval==1.2.2 -d $(VENV)/oracles
	tar -xzf $(VENV)/oracles/seqeval-1.2.2.tar.gz -C $(VENV)/oracles --strip-components=2 seqeval-1.2.2/tests/conlleval.pl
	touch $@

# Train a character-level LSTM on Python's own standard library (about 3 minutes), then sample.
# Run again, it continues the earlier run for 3 more minutes (and says so).
demo: install
	$(BIN)/seqlab lm train --out runs/python-lm --if-exists resume
	$(BIN)/seqlab lm generate runs/python-lm --prompt "def " --length 800

test: install
	$(BIN)/python -m pytest -q

# The recurrent layers against torch.nn, a few shapes (about 3 minutes).
bench: install
	$(BIN)/python benchmarks/layers.py --quick

# Every benchmark in full (about an hour and a half on 2 cores; BENCHMARKS.md gives each one's time).
bench-all: install
	$(BIN)/python benchmarks/layers.py
	$(BIN)/python benchmarks/word_lm.py
	$(BIN)/python benchmarks/word2vec.py
	$(BIN)/python benchmarks/glove.py

clean:
	rm -rf $(VENV) runs .pytest_cache
