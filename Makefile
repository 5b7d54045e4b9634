# Developer tasks. CI (.ci/run) runs `make check`, then the tests.
GO ?= go

.PHONY: all build test vet check lint proto fuzz

all: check test

build:
	$(GO) build ./...

test:
	$(GO) test -race ./...

vet:
	$(GO) vet ./...

# The house rules: formatting, go vet, and internal/lint (import
# directions, no clock in fsm/expr, errors wrapped with %w, staticcheck,
# a tidy go.mod). -count=1: the lint test reads files the test cache does
# not track.
check:
	@unformatted=$$($$($(GO) env GOROOT)/bin/gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 ./internal/lint/

lint: check

# Regenerates the committed protobuf code. Needs protoc (Debian:
# protobuf-compiler); installs protoc-gen-go and protoc-gen-go-grpc into
# GOBIN, which must be on PATH.
proto:
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
	protoc --proto_path=partitapb --go_out=partitapb --go_opt=paths=source_relative partitapb/*.proto
	protoc --proto_path=transport/transportpb --go_out=transport/transportpb --go_opt=paths=source_relative \
	  --go-grpc_out=transport/transportpb --go-grpc_opt=paths=source_relative transport/transportpb/*.proto
	protoc --proto_path=topology/topologypb --go_out=topology/topologypb --go_opt=paths=source_relative topology/topologypb/*.proto
	protoc --proto_path=partitapb --proto_path=topology/topologypb --proto_path=cluster/clusterpb --go_out=cluster/clusterpb --go_opt=paths=source_relative \
	  --go-grpc_out=cluster/clusterpb --go-grpc_opt=paths=source_relative cluster/clusterpb/*.proto

# Runs every fuzz target for FUZZTIME each.
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep ^Fuzz); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done
