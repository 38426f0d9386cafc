# DeepUnmix: every target does its own set-up (scripts/setup.sh is quick when already done).
PY := .venv/bin/python
export QT_QPA_PLATFORM ?= offscreen
export XDG_RUNTIME_DIR ?= $(CURDIR)/.build/runtime

.PHONY: setup demo test test-engine test-plugin test-qgis340 test-qgis344 bench bench-quick package clean

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

# the whole suite on another QGIS, in a cached Debian chroot (root, mmdebstrap): 3.40 LTR (Debian 13), 3.44 LTR (sid)
test-qgis340:
	bash scripts/chroot.sh trixie make test

test-qgis344:
	bash scripts/chroot.sh sid make test

bench: setup
	$(PY) benchmarks/run_all.py

bench-quick: setup
	$(PY) benchmarks/run_all.py --quick

package: setup
	$(PY) scripts/package.py --out dist

clean:
	rm -rf .build demo-output dist
