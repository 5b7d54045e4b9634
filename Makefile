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
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# Regenerates the committed protobuf code. Needs protoc (Debian:
# protobuf-compiler); installs protoc-gen-go and protoc-gen-go-grpc into
# GOBIN, which must be on PATH.
proto:
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
	protoc --proto_path=partitapb --go_out=partitapb --go_opt=paths=source_relative partitapb/*.proto
	protoc --proto_path=transport/transportpb --go_out=transport/transportpb --go_opt=paths=source_relative \
	  --go-grpc_out=transport/transportpb --go-grpc_opt=paths=source_relative transport/transportpb/*.proto
	protoc --proto_path=partitapb --proto_path=cluster/clusterpb --go_out=cluster/clusterpb --go_opt=paths=source_relative \
	  --go-grpc_out=cluster/clusterpb --go-grpc_opt=paths=source_relative cluster/clusterpb/*.proto

# Runs every fuzz target for FUZZTIME each.
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep ^Fuzz); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done
