#!/usr/bin/env bash
# Staged rollouts on three `partita start` processes in zones a, b and c
# under `partita bench` writes (docs/settings.md, "Staged rollouts"): a
# harmless value (request.timeout=20s) that completes, then a harmful one
# (fault.fsync-delay=200ms) that halts after zone a and is undone.
#
#   bench/scripts/rollout.sh [SOAK] [SECONDS_OF_LOAD]
set -euo pipefail
soak=${1:-10s} secs=${2:-180}
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/partita" ./cmd/partita
start() { # i zone [join]
	local i=$1 zone=$2
	shift 2
	"$work/partita" start --insecure --zone "$zone" --data-dir "$work/n$i" --api-addr "127.0.0.1:1810$i" \
		--peer-addr "127.0.0.1:1710$i" --admin-addr "127.0.0.1:1910$i" --log-level warn "$@" 2>>"$work/n$i.log" &
	pids+=($!)
}
start 1 a
sleep 2
start 2 b --join 127.0.0.1:17101
start 3 c --join 127.0.0.1:17101
ctl() { "$work/partita" ctl --addr 127.0.0.1:19101 "$@"; }
for _ in $(seq 100); do
	[ "$(ctl nodes -o json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null)" = 3 ] && break
	sleep 0.3
done
"$work/partita" bench --endpoint http://127.0.0.1:18101 --workload put --clients 8 --duration "${secs}s" \
	--records 2000 --value-size 256 --table load >"$work/bench.log" 2>&1 &
pids+=($!)
sleep 10
echo "== a harmless value"
ctl config rollout request.timeout 20s --stages zone:a,zone:b,zone:c --soak "$soak" || true
echo "== a harmful value"
ctl config rollout fault.fsync-delay 200ms --stages zone:a,zone:b,zone:c --soak "$soak" || true
echo "== the timeline"
ctl doctor timeline --kind config
echo "== the load"
cat "$work/bench.log"
