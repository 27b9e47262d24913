#!/usr/bin/env bash
# Issue 5's benchmarks.
#
# 1. The billing engine: 10,000 and then 100,000 active calls, all due at once; the engines charge one increment
#    of every call, in batches of BILLING_BATCH (500) calls per transaction. ENGINES lists the shapes run, each
#    "engines at once x batches each engine charges at once" (default "1x1 1x2 2x2": one engine as it ran before
#    BILLING_CONCURRENCY, one as a server runs it now, and two servers'). Reported as increments per second beside pgbench's tpcb-like transaction (scale 50, 16
#    clients, prepared) on the same PostgreSQL, alternating, BENCH_RUNS (3) rounds; medians and the ratio.
#    The service's role compresses its WAL page images (db/bootstrap.sql); pgbench, as the superuser, does not
#    by default, so each round also runs pgbench with wal_compression=lz4, and both ratios are reported.
# 2. POST /v1/calls at 100 requests a second for BENCH_CALL_SECONDS (10): every request a new caller and a
#    new Advisor (a live call holds both), against the release server with a fake LiveKit on loopback; beside
#    paced GET /healthz at the same rate in the same seconds. p50 and p99 of each.
#
# Release build; durable PostgreSQL (fsync and synchronous_commit on). `ledger verify` at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
source bench/lib.sh
runs=${BENCH_RUNS:-3}
engine_shapes=${ENGINES:-"1x1 1x2 2x2"}
# BENCH_CALL_COUNTS: the sizes of the due-call cases (default "10000 100000").
batch=${BILLING_BATCH:-500}
pgbench_seconds=${BENCH_SECONDS:-15}
call_seconds=${BENCH_CALL_SECONDS:-10}
call_rate=100

pg_ensure_installed
bench_build

work=$(mktemp -d /tmp/talktime-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  pg_stop "$work/postgres"
  rm -rf "$work"
}
trap cleanup EXIT

bench_start_database "$work" "$bin"
sql() { psql -q -X -t -A -h 127.0.0.1 -p "$port" -U postgres -d talktime -c "$1"; }

psql -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE pgbench_50" >/dev/null
pgbench -q -i -s 50 -h 127.0.0.1 -p "$port" -U postgres pgbench_50 >/dev/null 2>&1
pgbench_tps() {
  PGOPTIONS=${1:+"-c wal_compression=$1"} pgbench -n -b tpcb-like -M prepared -c 16 -j 16 -T "$pgbench_seconds" -h 127.0.0.1 -p "$port" -U postgres pgbench_50 2>/dev/null |
    awk '/^tps = / { printf "%.1f\n", $3 }'
}

results="$work/billing.txt"
for calls in ${BENCH_CALL_COUNTS:-10000 100000}; do
  slug="calls$calls"
  echo "==> seeding $calls active calls" >&2
  # The other case's calls are put out of the way: due in a year.
  sql "UPDATE calls SET paid_until = now() + interval '1 year'" >/dev/null
  "$bin/talktime-bench" billing-setup "$DATABASE_URL" "$slug" "$calls"
  sql "VACUUM ANALYZE" >/dev/null
  for run in $(seq 1 "$runs"); do
    for shape in $engine_shapes; do
      engines=${shape%x*} concurrency=${shape#*x}
      # Every call of this case due again, its next increment unpaid.
      sql "UPDATE calls c SET paid_until = now() - interval '1 second', ends_at = NULL FROM licensees l
           WHERE l.id = c.licensee_id AND l.slug = '$slug'" >/dev/null
      sql "VACUUM calls" >/dev/null
      read -r rate charged seconds < <("$bin/talktime-bench" billing-charge "$DATABASE_URL" "$engines" "$batch" "$concurrency")
      [ "$charged" = "$calls" ] || { echo "error: charged $charged of $calls calls" >&2; exit 1; }
      theirs=$(pgbench_tps)
      compressed=$(pgbench_tps lz4)
      echo "$calls $shape $rate $seconds $theirs $compressed" >>"$results"
      echo "    run $run: $calls calls, $engines engine(s) x $concurrency: $charged increments in ${seconds}s = $rate/s; pgbench tps $theirs, with lz4 $compressed" >&2
    done
  done
done

echo "==> POST /v1/calls at $call_rate/s beside GET /healthz" >&2
"$bin/talktime-bench" fake-livekit >"$work/livekit.txt" &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/livekit.txt" ] && break; sleep 0.1; done
read -r LIVEKIT_URL LIVEKIT_API_KEY LIVEKIT_API_SECRET <"$work/livekit.txt"
JWT_SIGNING_KEY=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
export LIVEKIT_URL LIVEKIT_API_KEY LIVEKIT_API_SECRET JWT_SIGNING_KEY
pairs=$((call_rate * call_seconds))
"$bin/talktime-bench" call-setup "$DATABASE_URL" callstart "$pairs" "$work/tokens.txt"
http_port=$(pg_free_port)
HTTP_PORT=$http_port TRUSTED_PROXIES=127.0.0.1 BCRYPT_COST=4 "$bin/talktime" serve >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null && break; sleep 0.1; done
"$bin/talktime-bench" probe "$http_port" /healthz "$call_seconds" "$call_rate" >"$work/healthz.txt" &
probe_pid=$!
"$bin/talktime-bench" call-load "$http_port" "$work/tokens.txt" "$call_rate" >"$work/calls.txt"
wait "$probe_pid"
cat "$work/calls.txt" "$work/healthz.txt" >&2
echo "    calls created: $(sql "SELECT count(*) FROM calls c JOIN licensees l ON l.id = c.licensee_id WHERE l.slug = 'callstart'")" >&2

echo "==> ledger verify" >&2
"$bin/talktime" ledger verify | tail -1 >&2

python3 - "$results" "$work/calls.txt" "$work/healthz.txt" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    calls, shape, rate, seconds, theirs, compressed = line.split()
    rows.setdefault((int(calls), shape), []).append((float(rate), float(seconds), float(theirs), float(compressed)))
print("| active calls due | engines x batches at once | increments/s (median) | seconds to charge all (median) | pgbench tps, scale 50, 16 clients (median) | ratio (median of per-run ratios) | pgbench tps with wal_compression=lz4 (median) | ratio to it |")
print("|---|---|---|---|---|---|---|---|")
for (calls, shape), values in sorted(rows.items()):
    print(f"| {calls:,} | {shape} | {statistics.median(v[0] for v in values):,.0f} | {statistics.median(v[1] for v in values):.2f} | "
          f"{statistics.median(v[2] for v in values):,.0f} | {statistics.median(v[0] / v[2] for v in values):.1f} | "
          f"{statistics.median(v[3] for v in values):,.0f} | {statistics.median(v[0] / v[3] for v in values):.1f} |")
print()
print("| request at 100/s | n | failures | p50 | p99 | max |")
print("|---|---|---|---|---|---|")
for path in sys.argv[2:]:
    text = open(path).read()
    m = re.search(r"PROBE (.+?) n=(\d+) failures=(\d+) p50=([\d.]+)ms p99=([\d.]+)ms max=([\d.]+)ms", text)
    if m:
        print(f"| {m[1]} | {m[2]} | {m[3]} | {m[4]} ms | {m[5]} ms | {m[6]} ms |")
PY
