# Voronka task menu. CI runs `python3 dev.py test` (the README's test command).
PY := .venv/bin/python

help:            ## list the targets
	@grep -E '^[a-z-]+:.*##' Makefile | sed 's/:.*##/\t/'

up:              ## install, build the demo (first run) and serve on :8000
	python3 dev.py up

test:            ## the whole suite on SQLite and PostgreSQL
	python3 dev.py test

test-sqlite:     ## the suite on SQLite only (quick)
	$(PY) -m pytest --backends=sqlite -q

lint:            ## ruff lint and format check
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks

lock:            ## re-pin dependencies into requirements.lock (no index addresses)
	$(PY) -m pip freeze --exclude-editable | grep -v '^voronka' > requirements.lock

docs:            ## regenerate the generated parts of docs (endpoints, permission matrix)
	$(PY) -m voronka.web.api_doc --write docs/api.md
	$(PY) -m voronka.access.matrix --write docs/permissions.md

bench:           ## demo generation and API latency benchmarks (100k clients)
	$(PY) benchmarks/bench_demo.py --clients 100000 --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/voronka_bench
	$(PY) benchmarks/bench_api.py --clients 100000 --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/voronka_bench

assets:          ## install the web interface's front-end packages (npm ci) and copy them
	python3 dev.py assets

screenshots:     ## browser tour of every page; screenshots into docs/screenshots/
	python3 dev.py assets
	VORONKA_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/web/ui/test_browser.py --backends=sqlite -p no:xdist -q -k every_page

.PHONY: help up test test-sqlite lint lock docs bench assets screenshots
