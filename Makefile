# Everything a developer or CI needs, from a fresh Debian machine with Python, Java and Maven.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
UV = $(shell ./scripts/ensure-uv.sh)
RUN = $(UV) run --frozen --all-packages

.PHONY: help install demo up down status logs test browser test-unit lint format schemas bench bench-backfill clean-stack

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: ## install uv and the locked Python dependencies into .venv
	@$(UV) sync --frozen --all-packages --quiet

demo: up ## the main job: the four services on a synthetic LLR population, progress, KPIs, dashboard
	@$(RUN) python -m referrals_demo demo $(DEMO_ARGS)

up: install ## start Kafka and PostgreSQL (or use KAFKA_BOOTSTRAP_SERVERS/DATABASE_URL), provision, report health
	@$(RUN) referrals up

down: install ## stop the local Kafka and PostgreSQL
	@$(RUN) referrals down

status: install ## is the stack healthy?
	@$(RUN) referrals status

logs: install ## tail the stack's logs
	@$(RUN) referrals logs

test: up browser ## install what is missing, start the stack, run the whole test suite
	@$(RUN) pytest

browser: ## install headless Chromium from the OS packages (for the dashboard's browser test)
	@./scripts/ensure-chromium.sh >/dev/null

test-unit: install ## the tests that need no broker or database
	@$(RUN) pytest -m "not infra"

lint: install ## ruff and mypy
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .
	@$(RUN) mypy

format: install ## apply ruff's formatting and safe fixes
	@$(RUN) ruff format .
	@$(RUN) ruff check --fix .

schemas: install ## regenerate the checked-in JSON Schemas from the models
	@$(RUN) python -m referral_schemas.jsonschema_gen

bench: up ## benchmarks; figures go to docs/perf.md by hand after review
	@$(RUN) python -m bench.kit_hop
	@$(RUN) python -m bench.intake
	@$(RUN) python -m bench.triage --processes 2
	@$(RUN) python -m bench.outcomes --processes 2
	@$(RUN) python -m bench.notify
	@$(RUN) python -m bench.pipeline

bench-backfill: up ## a 1,000,000-referral backfill through the four services (about 30 minutes)
	@$(RUN) python -m bench.backfill

clean-stack: down ## stop the stack and delete its data
	rm -rf .stack
