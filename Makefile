# Every target sets up its own virtual environment first, so each works on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS ?= dev,ray,executorch,litert

.PHONY: setup demo test lint clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch is pinned here as well as in pyproject.toml: an unpinned resolve pulls a CUDA build.
	$(BIN)/pip install --quiet "torch==2.13.0"
	# the phone runtimes (executorch, litert) add 1.2 GB and 2 minutes (6 with downloads); `make setup EXTRAS=dev,ray` skips them
	$(BIN)/pip install --quiet "torch==2.13.0" -e ".[$(EXTRAS)]"
	touch $(STAMP)

setup: $(STAMP)

# The method end to end on the shipped teacher, in the paper's search shape (8 slots x 7 candidates),
# sized for about five minutes on two cores. `make demo TRAIN_MINUTES=15` trains a teacher instead.
DEMO_FLAGS := --saliency-batches 1 --saliency-metrics grad_norm,snip,fisher,taylor --no-ablate \
	--distill-iters 600 --distill-fraction 0.1 --size 128 128 --budget 24 --val-images 8 --verify-steps 400
ifdef TRAIN_MINUTES
DEMO_TEACHER := --train-minutes $(TRAIN_MINUTES)
else
DEMO_TEACHER := --weights pretrained:nafnet_small
endif

demo: $(STAMP)
	$(BIN)/archc run specs/nafnet_small.arch $(DEMO_TEACHER) $(DEMO_FLAGS) --out runs/demo

# Two processes (pytest-xdist), one per core of the machines the suite is sized for; a test
# module runs in one of them, and every test on the Ray cluster in the same one (tests/conftest.py).
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy archc dsl compiler runtime

clean:
	rm -rf $(VENV)
