# DeepUnmix: every target does its own set-up (scripts/setup.sh is quick when already done).
PY := .venv/bin/python
export QT_QPA_PLATFORM ?= offscreen
export XDG_RUNTIME_DIR ?= $(CURDIR)/.build/runtime

.PHONY: setup demo test test-engine test-plugin bench bench-quick package clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(PY) scripts/demo.py --out demo-output

test: setup
	@mkdir -p $(XDG_RUNTIME_DIR) && chmod 700 $(XDG_RUNTIME_DIR)
	$(PY) -m pytest -q

test-engine: setup
	$(PY) -m pytest -q tests/engine

test-plugin: setup
	@mkdir -p $(XDG_RUNTIME_DIR) && chmod 700 $(XDG_RUNTIME_DIR)
	$(PY) -m pytest -q tests/plugin

bench: setup
	$(PY) benchmarks/run_all.py

bench-quick: setup
	$(PY) benchmarks/run_all.py --quick

package: setup
	$(PY) scripts/package.py --out dist

clean:
	rm -rf .build demo-output dist
