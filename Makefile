# Skiff: `make up` starts a single-node cluster, `make test` runs every test.
# Both install what is missing first (scripts/setup.sh).
NODE := node_modules/.bin/node
TESTS ?= src/**/*.test.ts test/**/*.test.ts
# Tests spawn servers and wait on I/O far more than they compute: 4 files at once suits 2 cores.
CONCURRENCY ?= 4

.PHONY: up test check setup unit bench-api bench-store bench-scheduler bench-scheduler-cycle bench-network bench-pod-startup bench-deployment-scale

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

# Benchmarks: one command each, printing numbers and ratios against a peer or limit measured in the same run.
bench-api: setup
	$(NODE) bench/api.ts

bench-store: setup
	$(NODE) bench/store.ts

bench-scheduler: setup
	$(NODE) bench/scheduler.ts

bench-scheduler-cycle: setup
	$(NODE) bench/scheduler-cycle.ts

bench-deployment-scale: setup
	$(NODE) bench/deployment-scale.ts

bench-network: setup
	$(NODE) bench/network.ts

bench-pod-startup: setup
	$(NODE) bench/pod-startup.ts
