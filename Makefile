# qscan — see README.md.
GO        ?= go
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
BIN       := bin/qscan
FUZZTIME  ?= 20s

.PHONY: all build run test unit e2e install-test lint bench fuzz reliability stack-start stack-stop clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/qscan

# The embedded demo: queue/incoming -> queue/outgoing, quarantine/, work/.
run: build
	mkdir -p queue/incoming queue/outgoing quarantine work
	chmod 0700 quarantine
	$(BIN) run -c etc/qscan.toml

# Unit tests, then the end-to-end tests against the real mail stack, then
# the installer's own tests (throwaway prefixes; after e2e, which installs
# sendmail and makes its users).
test: unit e2e install-test

install-test: build
	scripts/install-test

unit:
	$(GO) test -count=1 ./...

# End-to-end (-p 1: the packages share one stack): installs (as root, via apt) and starts sendmail, clamd, spamd
# and an SMTP sink on loopback, and every plug-in of scripts/teststack.d (Postfix and Exim unpacked into the stack,
# for TestPostfix... and TestExim...) (QSCAN_STACK_PORTS=N: the stack with offset N), runs the engines' TestReal* tests
# against the real clamd (the clamd client, clamdscan) and spamd (the client, the spam stage), failing if one of
# them skipped, and test/ against the real binary, stops.
REAL_PKGS := ./pkg/virus/clamd ./pkg/virus/command ./pkg/spam/spamd ./pkg/spamcheck ./pkg/store/pgstore
e2e: build
	scripts/teststack start
	eval "$$(scripts/teststack env)" \
	  && QSCAN_CLAMD=$$CLAMD_SOCKET QSCAN_SPAMD=$$SPAMD_ADDR $(GO) test -count=1 -v -run '^TestReal' $(REAL_PKGS) >bin/e2e-real.log 2>&1; \
	  rc=$$?; if [ $$rc -ne 0 ]; then cat bin/e2e-real.log; else grep -E '^(--- |ok )' bin/e2e-real.log; fi; \
	  if grep -E -- '--- SKIP: TestReal(Clamd|Spamd|Postgres)' bin/e2e-real.log; then echo "e2e: a real-engine test skipped (see bin/e2e-real.log)"; rc=1; fi; \
	  if [ $$rc -eq 0 ]; then QSCAN_BIN=$(CURDIR)/$(BIN) $(GO) test -p 1 -count=1 -tags e2e -timeout 30m ./test/...; rc=$$?; fi; \
	  scripts/teststack stop; exit $$rc

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; \
	 elif $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -version >/dev/null 2>&1; then $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...; \
	 else echo "staticcheck not installable here, skipped"; fi

# Drains BENCH_N queued messages (default 2000) with each engine set
# (BENCH_ENGINES, e.g. "none,builtin,clamd,clamd+spamd"; default none and
# builtin, plus clamd and clamd+spamd when scripts/teststack reports them
# up: QSCAN_STACK_PORTS picks the stack), beside the engines alone, the
# floor, 30 messages of 20 MB and the pick-up latency; the MTAs and the
# SMTP content filter (BENCH_FILTER_N) when the stack runs them. Prints a Markdown
# table for test/RESULTS.md; more knobs: go run ./test/bench -h.
bench: build
	$(GO) run ./test/bench $(BENCH_ARGS)

# Every fuzz target of the project, FUZZTIME each. A failing target (or a
# package whose tests do not build) does not stop the others: every
# failure is listed at the end and make fails. test/makefile checks this.
fuzz:
	@failed=""; \
	for pkg in $$($(GO) list ./...); do \
	  if ! list=$$($(GO) test -list '^Fuzz' $$pkg 2>&1); then \
	    echo "== $$pkg"; echo "$$list"; failed="$$failed$$pkg (test build failed)\n"; continue; \
	  fi; \
	  for f in $$(echo "$$list" | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || failed="$$failed$$pkg $$f\n"; \
	  done; \
	done; \
	if [ -n "$$failed" ]; then printf 'fuzz: failed:\n'; printf '%b' "$$failed" | sed 's/^/  /'; exit 1; fi; \
	echo "fuzz: every target passed"

# Reliability: crash, full disk, engine faults, hostile input, load, against
# the real stack; appends the figures to test/RESULTS.md. Then the crash test
# through the real Postfix and Exim with 50 kills (test/mta_crash_test.go). REL_SCALE=short
# for a run of a few minutes; QSCAN_STACK_PORTS=N for a second stack.
REL_SCALE ?= full
reliability: build
	scripts/teststack start
	REL_SCALE=$(REL_SCALE) QSCAN_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -tags reliability -timeout 120m -v ./test/reliability/ ; rc=$$?; \
	  if [ $$rc -eq 0 ]; then QSCAN_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -tags 'e2e reliability' -timeout 30m -v -run '^TestSharedStoreOutage$$' ./test/; rc=$$?; fi; \
	  QSCAN_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -tags reliability -timeout 60m -v -run '^Test(Postfix|Exim)Crash$$' ./test/ || rc=1; \
	  scripts/teststack stop; exit $$rc

clean:
	rm -rf bin work
