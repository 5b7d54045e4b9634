#!/usr/bin/env bash
# Strongly consistent GetItem on three `partita start` processes, with
# leader leases (raft.lease-reads true, the default) and without (every
# read a ReadIndex round), alternating rounds of the same run; CPU per
# read from the three processes' /proc counters (docs/replication.md,
# "Leader leases").
#
#   bench/scripts/lease_reads.sh [ROUNDS] [SECONDS] [CLIENTS]
set -euo pipefail
rounds=${1:-3} secs=${2:-10} clients=${3:-64}
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/partita" ./cmd/partita
start() { # i [join]
	local i=$1
	shift
	"$work/partita" start --insecure --data-dir "$work/n$i" --api-addr "127.0.0.1:1820$i" \
		--peer-addr "127.0.0.1:1720$i" --admin-addr "127.0.0.1:1920$i" --log-level warn "$@" 2>>"$work/n$i.log" &
	pids+=($!)
}
start 1
sleep 2
start 2 --join 127.0.0.1:17201
start 3 --join 127.0.0.1:17201
ctl() { "$work/partita" ctl --addr 127.0.0.1:19201 "$@"; }
for _ in $(seq 100); do
	[ "$(ctl nodes -o json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null)" = 3 ] && break
	sleep 0.3
done
endpoints=http://127.0.0.1:18201,http://127.0.0.1:18202,http://127.0.0.1:18203
"$work/partita" bench --endpoint "$endpoints" --workload get --records 10000 --value-size 256 --table leases \
	--operations 1 --clients 1 >/dev/null
cat >"$work/report.py" <<'PY'
import json, sys
r = json.load(sys.stdin)
ops = r["operations"]
cpu = float(sys.argv[3]) - float(sys.argv[2])
errors = sum((r.get("errors") or {}).values())
print(f"round {sys.argv[1]} leases={sys.argv[4]:5}  {r['ops_per_sec']:8.0f} reads/s  p50 {r['p50_ns']/1e6:.2f} ms"
      f"  p99 {r['p99_ns']/1e6:.2f} ms  server CPU {1e6*cpu/max(ops,1):.0f} us/read  errors {errors}")
PY
cpu() { # the three servers' CPU seconds
	local t=0
	for p in "${pids[@]}"; do
		read -r ut st < <(awk '{print $14, $15}' "/proc/$p/stat")
		t=$((t + ut + st))
	done
	echo "$t $(getconf CLK_TCK)" | awk '{printf "%.3f", $1/$2}'
}
for r in $(seq "$rounds"); do
	for leases in true false; do
		ctl config set raft.lease-reads "$leases" --reason "lease_reads.sh round $r" >/dev/null
		sleep 2
		c0=$(cpu)
		out=$("$work/partita" bench --endpoint "$endpoints" --workload get --consistent-read --no-load --records 10000 \
			--table leases --clients "$clients" --duration "${secs}s" --json)
		c1=$(cpu)
		echo "$out" | python3 "$work/report.py" "$r" "$c0" "$c1" "$leases"
	done
done
