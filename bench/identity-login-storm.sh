#!/usr/bin/env bash
# Issue 3's benchmark: while 32 clients log in continuously, how long do GET /v1/me and GET /healthz wait,
# and how close does login throughput come to the machine's ceiling (cores / one cost-12 BCrypt hash)?
#
# Release build, durable PostgreSQL (default fsync and synchronous_commit), BCRYPT_COST=12. Each run lasts
# BENCH_SECONDS (30); BENCH_RUNS (3) runs are made and their medians reported, since the machine is shared.
# Load comes from wrk (32 connections, logins spread over 1000 accounts and random client addresses behind a
# trusted proxy so that rate limits never answer) plus two paced probes (20 requests a second each, from
# talktime-bench: one keep-alive connection, open loop, timing first byte out to last byte in).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
source scripts/lib/processes.sh
source bench/lib.sh
runs=${BENCH_RUNS:-3}
seconds=${BENCH_SECONDS:-30}
clients=32

pg_ensure_installed
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
bench_build

work=$(mktemp -d /tmp/talktime-bench.XXXXXX)
chmod 755 "$work"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then stop_within 60 "the server" "$server_pid" "$work/server.log" || true; fi
  pg_stop "$work/postgres"
  rm -rf "$work"
}
trap cleanup EXIT

port=$(pg_free_port)
pg_init_cluster "$work/postgres" trust
pg_start "$work/postgres" "$port" max_connections=200
psql -q -h 127.0.0.1 -p "$port" -U postgres -v owner_password=x -v app_password=x -v database=talktime -f db/bootstrap.sql >/dev/null
export DATABASE_URL="postgres://talktime_app@127.0.0.1:$port/talktime"
export DATABASE_OWNER_URL="postgres://talktime_owner@127.0.0.1:$port/talktime"
export JWT_SIGNING_KEY=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
export BCRYPT_COST=12 LOG_LEVEL=error TRUSTED_PROXIES=127.0.0.1 ACCESS_TOKEN_TTL_SECONDS=3600
"$bin/talktime" migrate >/dev/null

export BENCH_PASSWORD="bench passphrase 2026"
export BENCH_ACCOUNTS=1000
hash=$(printf '%s\n' "$BENCH_PASSWORD" | "$bin/talktime-bench" bcrypt-hash 12)
psql -q -h 127.0.0.1 -p "$port" -U postgres -d talktime <<SQL >/dev/null
INSERT INTO licensees (slug, name, app_name, currency, licence_status) VALUES ('bench', 'Bench', 'Bench', 'EUR', 'active');
INSERT INTO users (licensee_id, role, email, password_hash, display_name)
SELECT (SELECT id FROM licensees WHERE slug = 'bench'), 'end_user', 'bench' || n || '@bench.example', '$hash', 'Bench ' || n
FROM generate_series(0, $((BENCH_ACCOUNTS - 1))) AS n;
SQL

http_port=$(pg_free_port)
HTTP_PORT=$http_port "$bin/talktime" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null && break; sleep 0.1; done
export BENCH_TOKEN=$(curl -sf -X POST "http://127.0.0.1:$http_port/v1/auth/login" -H 'X-Licensee: bench' -H 'Content-Type: application/json' \
  -H 'X-Forwarded-For: 198.18.0.1' -d "{\"email\":\"bench0@bench.example\",\"password\":\"$BENCH_PASSWORD\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

cores=$(nproc)
# The machine's ceiling, measured again before every storm (the machine is shared, and its speed drifts over
# minutes): one cost-12 hash alone, and one hashing process per core at once (what the cores really deliver
# together: shared caches, SMT siblings).
measure_ceiling() {
  local run=$1 counters=() core
  "$bin/talktime-bench" bcrypt-cost 12 5 >"$work/hash-$run.txt"
  for core in $(seq 1 "$cores"); do
    "$bin/talktime-bench" bcrypt-count 12 5 >"$work/count-$run-$core.txt" &
    counters+=($!)
  done
  wait "${counters[@]}"
  cat "$work"/count-"$run"-*.txt | python3 -c 'import sys; print(round(sum(int(line) for line in sys.stdin) / 5, 3))' >"$work/parallel-$run.txt"
  echo "==> cores $cores, one cost-12 hash $(cat "$work/hash-$run.txt")s; $cores threads hashing at once manage $(cat "$work/parallel-$run.txt") hashes/s" >&2
}
# Waits until the server has finished the logins of the last storm: wrk gives up on its requests when a storm
# ends, but up to a queue's worth of hashes are still to run, and they would be counted against the next storm.
wait_until_idle() {
  local before after
  for _ in $(seq 1 60); do
    before=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")
    sleep 0.5
    after=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")
    [ $((after - before)) -lt 5 ] && return 0
  done
}

probe() { "$bin/talktime-bench" probe "$http_port" "$1" "$2" 20; }
echo "==> quiet baseline (${seconds}s)" >&2
probe /v1/me "$seconds" >"$work/quiet-me.txt" &
quiet_pid=$!
probe /healthz "$seconds" >"$work/quiet-healthz.txt"
wait "$quiet_pid"
cat "$work/quiet-me.txt" "$work/quiet-healthz.txt"

for run in $(seq 1 "$runs"); do
  wait_until_idle
  measure_ceiling "$run"
  echo "==> storm $run of $runs (${seconds}s, $clients clients)" >&2
  probe /v1/me "$seconds" >"$work/me-$run.txt" &
  me_pid=$!
  probe /healthz "$seconds" >"$work/healthz-$run.txt" &
  healthz_pid=$!
  wrk -t2 -c"$clients" -d"${seconds}s" --timeout 10s -s bench/login.lua "http://127.0.0.1:$http_port" >"$work/wrk-$run.txt"
  wait "$me_pid" "$healthz_pid"
  grep -E 'LOGINS_|Requests/sec' "$work/wrk-$run.txt"
  cat "$work/me-$run.txt" "$work/healthz-$run.txt"
done

python3 - "$work" "$runs" "$cores" <<'PY'
import re, statistics, sys
work, runs, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def value(path, pattern):
    return float(re.search(pattern, open(path).read()).group(1))
def number(path):
    return float(open(path).read().strip())
logins = [value(f"{work}/wrk-{r}.txt", r"LOGINS_PER_SECOND ([\d.]+)") for r in range(1, runs + 1)]
others = [value(f"{work}/wrk-{r}.txt", r"LOGINS_OTHER (\d+)") for r in range(1, runs + 1)]
me = [value(f"{work}/me-{r}.txt", r"p99=([\d.]+)ms") for r in range(1, runs + 1)]
healthz = [value(f"{work}/healthz-{r}.txt", r"p99=([\d.]+)ms") for r in range(1, runs + 1)]
hash_seconds = [number(f"{work}/hash-{r}.txt") for r in range(1, runs + 1)]
parallel = [number(f"{work}/parallel-{r}.txt") for r in range(1, runs + 1)]
ceilings = [cores / h for h in hash_seconds]
of_ceiling = [l / c for l, c in zip(logins, ceilings)]
of_parallel = [l / p for l, p in zip(logins, parallel)]
runs_text = lambda values, f: ", ".join(f(v) for v in values)
print()
print("| measure (median of %d runs; each storm against the ceiling measured just before it) | value | goal |" % runs)
print("|---|---|---|")
print(f"| login throughput | {statistics.median(logins):.2f}/s, {statistics.median(of_ceiling):.0%} of {cores} cores / one hash "
      f"(runs: {runs_text(of_ceiling, lambda v: f'{v:.0%}')}; one hash {statistics.median(hash_seconds) * 1000:.0f} ms) | >= 90% |")
print(f"| login throughput against bare hashing | {statistics.median(of_parallel):.0%} of {statistics.median(parallel):.2f} hashes/s "
      f"with {cores} threads at once (runs: {runs_text(of_parallel, lambda v: f'{v:.0%}')}) | |")
print(f"| non-200 logins | {statistics.median(others):.0f} | 0 |")
print(f"| GET /v1/me p99 under the storm | {statistics.median(me):.2f} ms (runs: {runs_text(me, lambda v: f'{v:.2f}')}) | < 10 ms |")
print(f"| GET /healthz p99 under the storm | {statistics.median(healthz):.2f} ms (runs: {runs_text(healthz, lambda v: f'{v:.2f}')}) | < 10 ms |")
PY
