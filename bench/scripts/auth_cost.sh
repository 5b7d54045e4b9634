#!/usr/bin/env bash
# The cost of authentication (docs/security.md, "Cost"): `partita bench`
# GetItem and PutItem against `partita dev` (auth off) and `partita dev
# --auth` (SigV4 verified, policies checked), both running, in alternating
# rounds, with the server's CPU time per operation read from /proc.
#
#   bench/scripts/auth_cost.sh [ROUNDS] [SECONDS] [CLIENTS]
#
# PARTITA_BIN=path runs that binary instead of building ./cmd/partita (to
# measure an older build the same way).
set -euo pipefail
rounds=${1:-3} secs=${2:-10} clients=${3:-8}
work=$(mktemp -d)
trap 'kill $off_pid $on_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
if [ -n "${PARTITA_BIN:-}" ]; then
	cp "$PARTITA_BIN" "$work/partita"
else
	go build -o "$work/partita" ./cmd/partita
fi
"$work/partita" dev --port 18100 --admin-addr 127.0.0.1:19100 --data-dir "$work/off" --log-level error >/dev/null &
off_pid=$!
"$work/partita" dev --auth --port 18200 --admin-addr 127.0.0.1:19200 --data-dir "$work/on" --log-level error >/dev/null &
on_pid=$!
for _ in $(seq 100); do [ -f "$work/on/bootstrap-credentials" ] && break; sleep 0.1; done
read -r key secret _ < <(grep -v '^#' "$work/on/bootstrap-credentials")
sleep 1

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # clock ticks
tck=$(getconf CLK_TCK)
bench() { # mode port pid workload load
	local mode=$1 port=$2 pid=$3 wl=$4 load=$5 before after out
	local creds=()
	[ "$mode" = on ] && creds=(--access-key-id "$key" --secret-access-key "$secret")
	before=$(cpu "$pid")
	out=$("$work/partita" bench --endpoint "http://127.0.0.1:$port" --workload "$wl" --clients "$clients" \
		--duration "${secs}s" --records 2000 --value-size 256 --table "t$wl" $load --json "${creds[@]}")
	after=$(cpu "$pid")
	echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin); o = r["ops"][0]
cpu_us = ('"$after"' - '"$before"') / '"$tck"' * 1e6 / max(r["operations"], 1)
print("%-4s %-3s %8.0f ops/s  p50 %6.2f ms  p99 %6.2f ms  server CPU %5.0f us/op  errors %s" % (
    sys.argv[1], sys.argv[2], r["ops_per_sec"], o["p50_ns"] / 1e6, o["p99_ns"] / 1e6, cpu_us, r["errors"] or 0))
' "$wl" "$mode"
}
# Load each table once (not measured), then alternate.
for wl in get put; do
	bench off 18100 $off_pid $wl --load >/dev/null
	bench on 18200 $on_pid $wl --load >/dev/null
done
for r in $(seq "$rounds"); do
	echo "round $r"
	for wl in get put; do
		bench off 18100 $off_pid $wl --no-load
		bench on 18200 $on_pid $wl --no-load
	done
done
