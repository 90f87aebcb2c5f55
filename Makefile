# The single source of the build and test commands: the Dockerfile runs
# `make build` too, so a local binary and the image's binary match.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
IMAGE   ?= forstok-accurate-sync
FUZZTIME ?= 10s

# Fuzz targets as package:Function; add a line to fuzz one more.
FUZZ_TARGETS := \
	./forstok:FuzzDecode \
	./forstok:FuzzVerify \
	./mapping:FuzzBundleSplit

GO ?= go

.PHONY: all build test vet fuzz docker tidy clean

all: vet test build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)" -o bin/ ./cmd/...

test:
	$(GO) test -race -count=1 ./...

# staticcheck is a tool in go.mod, so its version is pinned there.
vet:
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# go test -fuzz takes one target in one package at a time, hence the loop.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$fn in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

docker:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) \
		-t $(IMAGE):$(VERSION) .

tidy:
	$(GO) mod tidy

clean:
	rm -rf bin/
