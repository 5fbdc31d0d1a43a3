# The two commands a newcomer needs: `make demo` (the main job, offline) and `make test`.
# Each installs what it needs into the current Python first, with pip's progress shown: `make demo` the package alone,
# `make test` (and `make bench`) the package with its extras (TRL, lighteval, pytest, ruff, build: the training,
# evaluation and development tests run). PYTHON=... picks another interpreter.
PYTHON ?= python3
# Installed only when no torch is importable (a torch you already have is left alone): a bare `torch` requirement
# would pull several GB of CUDA packages on Linux, while this version's CPU wheel is what the demo and the tests need.
TORCH_VERSION ?= 2.13.0
# Where that torch comes from: PyTorch's CPU wheel index, unless pip is configured with an index or find-links of its
# own (`pip config list` names index-url, extra-index-url or find-links: a mirror, a wheel folder, an offline
# machine), which are then used as they are. `make demo TORCH_INDEX=` always uses pip's own configuration.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: install install-base demo test lint format bench

# An install is skipped when this interpreter already has this checkout installed (an editable install found from
# outside the checkout: -I ignores the current folder), with the extras asked for, and pyproject.toml has not changed
# since: pip's own check of a satisfied `-e .[all]` takes about 40 s. The record is a stamp file per interpreter and
# extras set (.installed-<interpreter hash>-base or -all), never committed; the `all` stamp satisfies `make demo` too.
INTERPRETER = $(shell $(PYTHON) -c "import hashlib, sys; print(hashlib.sha1(sys.executable.encode()).hexdigest()[:12])")
STAMP = .installed-$(INTERPRETER)
CHECKOUT_INSTALLED = $(PYTHON) -I -c "import pathlib, sys, s2r_hf; \
	sys.exit(pathlib.Path(s2r_hf.__file__).resolve().parent != pathlib.Path(sys.argv[1]).resolve())" "$(CURDIR)/s2r_hf" 2>/dev/null
INSTALL_TORCH = $(PYTHON) -c "import torch" 2>/dev/null || { \
	if [ -n "$(TORCH_INDEX)" ] && ! $(PYTHON) -m pip config list 2>/dev/null | grep -Eq "index-url|find-links"; \
	then echo "no torch here: installing the CPU build torch==$(TORCH_VERSION) from $(TORCH_INDEX)"; \
		$(PYTHON) -m pip install "torch==$(TORCH_VERSION)" --index-url "$(TORCH_INDEX)"; \
	else echo "no torch here: installing torch==$(TORCH_VERSION) from pip's configured sources"; \
		$(PYTHON) -m pip install "torch==$(TORCH_VERSION)"; \
	fi; }

# What `make demo` needs: the package and its dependencies, no extras.
install-base:
	@if { [ "$(STAMP)-base" -nt pyproject.toml ] || [ "$(STAMP)-all" -nt pyproject.toml ]; } && $(CHECKOUT_INSTALLED); \
	then echo "s2r-hf is installed from this checkout (remove $(STAMP)-* to reinstall)"; \
	else \
		$(INSTALL_TORCH) && $(PYTHON) -m pip install -e . && touch "$(STAMP)-base"; \
	fi

# What `make test` and `make bench` need: the package with the train, eval and dev extras.
install:
	@if [ "$(STAMP)-all" -nt pyproject.toml ] && $(CHECKOUT_INSTALLED); \
	then echo "s2r-hf and its extras are installed from this checkout (remove $(STAMP)-all to reinstall)"; \
	else \
		$(INSTALL_TORCH) && $(PYTHON) -m pip install -e ".[all]" && touch "$(STAMP)-all"; \
	fi

demo: install-base
	$(PYTHON) -m s2r_hf.cli demo --output s2r-demo --overwrite

test: install
	$(PYTHON) -m ruff check .
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

format:
	$(PYTHON) -m ruff format .
	$(PYTHON) -m ruff check --fix .

# Every script at its full size (long on a CPU: the experiment alone took 10 minutes on a 2-core machine);
# tests/test_benchmark_scripts.py runs each at a tiny size.
# The GPU modes (`--gpu`: bench_judge.py, bench_training.py, bench_evaluation.py, bench_rollouts.py) need a CUDA machine.
bench: install
	$(PYTHON) benchmarks/bench_selection.py
	$(PYTHON) benchmarks/bench_length.py
	$(PYTHON) benchmarks/bench_judge.py
	$(PYTHON) benchmarks/bench_training.py
	$(PYTHON) benchmarks/bench_evaluation.py
	$(PYTHON) benchmarks/bench_grader.py
	$(PYTHON) benchmarks/bench_hygiene.py
	$(PYTHON) benchmarks/bench_decontamination.py
	$(PYTHON) benchmarks/bench_report.py
	$(PYTHON) benchmarks/bench_rollouts.py
	$(PYTHON) benchmarks/bench_experiment.py
