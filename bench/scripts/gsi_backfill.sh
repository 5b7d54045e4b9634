#!/usr/bin/env bash
# The backfill figure of docs/indexes.md: a `partita dev --nodes N`
# cluster (3 by default) on ports 18300.. (API), 17300.. (peers) and
# 19300.. (admin), then bench/scripts/gsi_backfill.go against it (load
# ITEMS items, add an index while writers write, time the backfill,
# compare the index with a scan of the table).
#
#   bench/scripts/gsi_backfill.sh [ITEMS] [NODES]
set -euo pipefail
items=${1:-1000000} nodes=${2:-3}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/partita" ./cmd/partita
"$work/partita" dev --nodes "$nodes" --data-dir "$work/data" --port 18300 --peer-port 17300 \
	--admin-addr 127.0.0.1:19300 --log-level warn >"$work/dev.out" 2>"$work/dev.log" &
pid=$!
endpoints=
for i in $(seq 0 $((nodes - 1))); do
	endpoints+="${endpoints:+,}http://127.0.0.1:$((18300 + i))"
done
for _ in $(seq 100); do
	[ "$(grep -c 'serving the DynamoDB API' "$work/dev.out" 2>/dev/null)" = "$nodes" ] && break
	sleep 0.5
done
sleep 2
go run bench/scripts/gsi_backfill.go -endpoint "$endpoints" -items "$items"
