# The two commands a newcomer needs: `make demo` (the main job, offline) and `make test`.
# Both install what they need into the current Python first (the training and evaluation extras too, so their
# tests run); PYTHON=... picks another interpreter.
PYTHON ?= python3
# Installed only when no torch is importable: a bare `torch` requirement would pull several GB of CUDA packages,
# while this version's CPU wheel is what these machines carry. A torch you already have is left alone.
TORCH_VERSION ?= 2.13.0

.PHONY: install demo test lint format bench

# The install is skipped when this interpreter already has this checkout installed (an editable install found from
# outside the checkout: -I ignores the current folder) and pyproject.toml has not changed since: pip's own check of a
# satisfied `-e .[all]` takes about 40 s. INSTALLED is that record, one per interpreter, never committed.
INSTALLED = .installed-$(shell $(PYTHON) -c "import hashlib, sys; print(hashlib.sha1(sys.executable.encode()).hexdigest()[:12])")

install:
	@if [ "$(INSTALLED)" -nt pyproject.toml ] && $(PYTHON) -I -c "import pathlib, sys, s2r_hf; \
		sys.exit(pathlib.Path(s2r_hf.__file__).resolve().parent != pathlib.Path(sys.argv[1]).resolve())" "$(CURDIR)/s2r_hf" 2>/dev/null; \
	then echo "s2r-hf and its extras are installed from this checkout (remove $(INSTALLED) to reinstall)"; \
	else \
		$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install "torch==$(TORCH_VERSION)"; \
		$(PYTHON) -m pip install --quiet -e ".[all]" && touch "$(INSTALLED)"; \
	fi

demo: install
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
# The GPU modes (`--gpu`: bench_judge.py, bench_training.py, bench_evaluation.py) need a CUDA machine.
bench: install
	$(PYTHON) benchmarks/bench_selection.py
	$(PYTHON) benchmarks/bench_length.py
	$(PYTHON) benchmarks/bench_judge.py
	$(PYTHON) benchmarks/bench_training.py
	$(PYTHON) benchmarks/bench_evaluation.py
	$(PYTHON) benchmarks/bench_hygiene.py
	$(PYTHON) benchmarks/bench_report.py
	$(PYTHON) benchmarks/bench_experiment.py
