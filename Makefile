# Purser's build. Every target works on a fresh machine with Go 1.26 and the
# module proxy: tools are installed into ./.bin at pinned versions.
GO          ?= go
BIN         := $(CURDIR)/.bin
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
NATSCLI     := github.com/nats-io/natscli/nats@v0.5.0
PKGS        := ./...
# Total rapid steps per property test is -rapid.checks; CI keeps the default.
TESTFLAGS   ?=

.PHONY: all build test test-short bench lint run fuzz clean tools

all: build

build:
	$(GO) build -o $(BIN)/purser ./cmd/purser

# The one command that runs the tests (README). -race always: the runtime is
# concurrent and the race detector is part of the contract.
# The end-to-end tests drive the stock nats CLI, installed here, pinned.
test: $(BIN)/nats
	$(GO) test -race -count=1 -timeout 15m $(TESTFLAGS) $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

# The Go benchmarks (the ledger and runtime, the journal's durability modes
# side by side), then burst and uniform for a few seconds each against an
# embedded node (every append fsynced before its reply), audited: the figures
# docs/benchmarks.md records. The runtime runs twice: at Go's default GOGC,
# and at the collector setting purser serve runs with (--gc-percent 400,
# cmd/purser/gc.go), each beside its direct baselines.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 30m ./actors/...
	GOGC=400 $(GO) test -run '^$$' -bench 'HotWallet|Uniform|Direct' -benchtime 3s -count 1 ./actors/
	$(GO) test -run '^$$' -bench 'BenchmarkAppend$$' -benchtime 20000x -count 1 ./transport/journal/
	$(GO) test -run '^$$' -bench 'ColdActivation1MEvents/full_replay' -benchtime 20x ./snapshot/
	$(GO) test -run '^$$' -bench 'ColdActivation1MEvents/snapshot|DecodeAndRestoreHot' -benchtime 400x -benchmem ./snapshot/
	$(GO) test -run '^$$' -bench 'ColdActivationSegmented' -benchtime 100x ./snapshot/
	$(GO) test -run '^$$' -bench 'DecideOnARestored' -benchtime 40000x -benchmem ./snapshot/
	$(GO) test -run '^$$' -bench 'EncodeDecode|ImageAndRestore' -benchmem ./snapshot/
	$(GO) test -run '^$$' -bench 'EncodeHotImage|LoadHotImage' -benchtime 20x -benchmem ./snapshot/
	$(GO) run ./cmd/purser loadtest --embedded --suite bench --duration 3s --progress=false

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./transport/wire/
	$(GO) test -run '^$$' -fuzz FuzzJSONString -fuzztime 30s ./transport/wire/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./snapshot/
	$(GO) test -run '^$$' -fuzz FuzzSegment -fuzztime 60s ./snapshot/
	$(GO) test -run '^$$' -fuzz FuzzDecodeEvents -fuzztime 60s ./actors/
	$(GO) test -run '^$$' -fuzz FuzzParseAck -fuzztime 30s ./transport/journal/

$(BIN)/nats:
	GOBIN=$(BIN) $(GO) install $(NATSCLI)

$(BIN)/staticcheck:
	GOBIN=$(BIN) $(GO) install $(STATICCHECK)

lint: $(BIN)/staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(BIN)/staticcheck $(PKGS)

# The one command that runs Purser: a single node with an embedded NATS server.
run: build
	$(BIN)/purser serve

clean:
	rm -rf $(BIN)
