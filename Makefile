# Developer tasks. `make test` is what CI runs (see .ci/run).
GO ?= go

.PHONY: all build test vet lint proto fuzz

all: vet test

build:
	$(GO) build ./...

test:
	$(GO) test -race ./...

vet:
	$(GO) vet ./...

lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@2025.1.1 ./...

# Regenerates the committed protobuf code. Needs protoc (Debian:
# protobuf-compiler); installs protoc-gen-go into GOBIN.
proto:
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
	protoc --proto_path=partitapb --go_out=partitapb --go_opt=paths=source_relative partitapb/*.proto

# Runs every fuzz target for FUZZTIME each.
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep ^Fuzz); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done
