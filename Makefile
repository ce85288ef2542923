# Skiff: `make up` starts a single-node cluster, `make test` runs every test.
# Both install what is missing first (scripts/setup.sh).
NODE := node_modules/.bin/node
TESTS ?= src/**/*.test.ts test/**/*.test.ts
# Tests spawn servers and wait on I/O far more than they compute: 4 files at once suits 2 cores.
CONCURRENCY ?= 4

.PHONY: up test check setup unit bench-api

setup:
	@bash scripts/setup.sh

up: setup
	bin/skiff server

check: setup
	node_modules/.bin/tsc -p .
	node_modules/.bin/biome check

test: setup check
	$(NODE) --test --test-concurrency=$(CONCURRENCY) --test-timeout=300000 $(foreach t,$(TESTS),'$(t)')

unit: setup
	$(NODE) --test $(foreach t,$(TESTS),'$(t)')

bench-api: setup
	$(NODE) bench/api.ts
