# The two front-door commands: `make run` and `make test`. Both set up what is missing first.
.PHONY: setup run test test-fast bench demo clean-data

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/observatory run

test: setup
	.venv/bin/python -m pytest -q

# The loop to run while changing code: every package, no OCR over the samples, no multi-second servers.
test-fast: setup
	.venv/bin/python -m pytest -q -m "not slow" -n auto

demo: setup
	.venv/bin/observatory demo --count 3

bench: setup
	.venv/bin/python benchmarks/replay.py --quick
	.venv/bin/python benchmarks/accuracy.py

.PHONY: screenshots
# Renders the analysts' pages in headless Chromium to screenshots/ (installs chromium when missing).
screenshots: setup
	@command -v chromium >/dev/null || { SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null; }
	.venv/bin/python scripts/screenshots.py

clean-data:
	@echo "This deletes the event log, blobs and projections under ./events and ./projections."
	@read -p "Type yes to continue: " ok && [ "$$ok" = yes ]
	find events projections -mindepth 1 ! -name README.md -delete
