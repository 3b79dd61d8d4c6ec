# Two commands: `make run` (web + worker + scheduler on an embedded Redis) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test ci node browsers bench bench-lookup bench-intake bench-dispatch bench-handover translations lock clean

# constraints.txt pins every package to the versions the tests and benchmarks last passed with, so a fresh
# machine gets what CI tested and benchmark runs compare like with like; `make lock` moves them on.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

# The newest versions pyproject.toml allows, resolved in a throwaway venv (nothing installed by hand leaks in).
lock:
	rm -rf $(VENV)-lock && $(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --quiet --upgrade pip
	$(VENV)-lock/bin/python -m pip install --quiet -e ".[test]"
	{ echo "# Written by make lock: the versions of every package the project installs (pip -c)."; \
	  $(VENV)-lock/bin/python -m pip freeze --exclude-editable; } > constraints.txt
	rm -rf $(VENV)-lock

# python -m, not the flask script: from a git worktree the script imports the checkout the venv was installed
# from (an editable install), python -m the routing package beside it.
translations: $(STAMP)
	$(BIN)/python -m flask --app routing translations compile >/dev/null

run: translations
	$(BIN)/python -m routing.devserver

test: translations
	$(BIN)/python -m pytest

# Peers and browsers for the suites that need them (they skip cleanly without): Prism and axe-core
# from the npm registry into ./node_modules, Debian's chromium for the browser tests.
node:
	@if command -v npm >/dev/null 2>&1; then npm install --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Prism and browser suites will be skipped"; fi

browsers:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)) \
		|| echo "chromium could not be installed: the browser suite will be skipped"; \
	else echo "chromium not found: the browser suite will be skipped"; fi

ci: node browsers test

bench: bench-lookup bench-intake bench-dispatch bench-handover

bench-lookup: translations
	$(BIN)/python bench/lookup.py

bench-intake: translations
	$(BIN)/python bench/intake/run.py

bench-dispatch: translations
	$(BIN)/python bench/dispatch.py

bench-handover: translations
	$(BIN)/python bench/handover.py

clean:
	rm -rf $(VENV) $(VENV)-lock node_modules var .pytest_cache
