#!/usr/bin/env bash
# Issue 4's benchmark: wallet charges through the ledger's posting path (Ledger.post: ensure accounts, lock
# them FOR UPDATE in id order, check, write entries; each charge split three ways, the hot Licensee-wide
# accounts sharded) beside pgbench's tpcb-like transaction on the same PostgreSQL, at the same client counts.
#
#   hot:    every charge on ONE wallet (pgbench at scale 1: one branch row every transaction updates)
#   spread: charges over 10,000 wallets and 100 advisors (pgbench at scale 50)
#
# Each round also measures every charge posted alone (BENCH_COMBINE_LIMIT=1: no charges committed together), the
# path as it was before concurrent postings were combined.
#
# Release build; durable PostgreSQL (fsync and synchronous_commit on); pgbench in prepared mode with one
# thread per client. Each measurement lasts BENCH_SECONDS (15); BENCH_RUNS (3) rounds are made, alternating
# ours and pgbench's, and medians reported with their ratio, since the machine is shared and noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
source bench/lib.sh
runs=${BENCH_RUNS:-3}
seconds=${BENCH_SECONDS:-15}
client_counts=${BENCH_CLIENTS:-"1 8 32"}

pg_ensure_installed
bench_build

work=$(mktemp -d /tmp/talktime-bench.XXXXXX)
chmod 755 "$work"
cleanup() {
  pg_stop "$work/postgres"
  rm -rf "$work"
}
trap cleanup EXIT

bench_start_database "$work" "$bin"
url=$DATABASE_URL
echo "==> seeding: 1 hot wallet; 10,000 wallets and 100 advisors" >&2
"$bin/talktime-bench" ledger-setup "$url" hot 1 1
"$bin/talktime-bench" ledger-setup "$url" spread 10000 100

for scale in 1 50; do
  psql -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE pgbench_$scale" >/dev/null
  pgbench -q -i -s "$scale" -h 127.0.0.1 -p "$port" -U postgres "pgbench_$scale" >/dev/null 2>&1
done
psql -q -h 127.0.0.1 -p "$port" -U postgres -d talktime -c "VACUUM ANALYZE" >/dev/null

pgbench_tps() { # SCALE CLIENTS
  pgbench -n -b tpcb-like -M prepared -c "$2" -j "$2" -T "$seconds" -h 127.0.0.1 -p "$port" -U postgres "pgbench_$1" 2>/dev/null |
    awk '/^tps = / { printf "%.1f\n", $3 }'
}

results="$work/results.txt"
for run in $(seq 1 "$runs"); do
  for case in hot spread; do
    scale=1
    [ "$case" = spread ] && scale=50
    for clients in $client_counts; do
      ours=$("$bin/talktime-bench" ledger-charges "$url" "$case" "$clients" "$seconds")
      alone=$(BENCH_COMBINE_LIMIT=1 BENCH_COMBINE_BATCHES=$clients "$bin/talktime-bench" ledger-charges "$url" "$case" "$clients" "$seconds")
      theirs=$(pgbench_tps "$scale" "$clients")
      echo "$case $clients $ours $theirs $alone" >>"$results"
      echo "    run $run $case clients=$clients: charges/s $ours (each alone $alone), pgbench tps $theirs" >&2
    done
  done
done

echo "==> ledger verify after $(wc -l <"$results") measurements" >&2
"$bin/talktime" ledger verify | tail -1 >&2

python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    case, clients, ours, theirs, alone = line.split()
    rows.setdefault((case, int(clients)), []).append((float(ours), float(theirs), float(alone)))
print("| case | clients | charges/s (median) | pgbench tps (median) | ratio (median of per-run ratios) | each alone: charges/s | its ratio |")
print("|---|---|---|---|---|---|---|")
for (case, clients), values in sorted(rows.items(), key=lambda item: (item[0][0] != "hot", item[0][1])):
    ours = statistics.median(v[0] for v in values)
    theirs = statistics.median(v[1] for v in values)
    alone = statistics.median(v[2] for v in values)
    ratio = statistics.median(v[0] / v[1] for v in values)
    alone_ratio = statistics.median(v[2] / v[1] for v in values)
    label = "hot (1 wallet; pgbench scale 1)" if case == "hot" else "spread (10,000 wallets; pgbench scale 50)"
    print(f"| {label} | {clients} | {ours:,.0f} | {theirs:,.0f} | {ratio:.2f} | {alone:,.0f} | {alone_ratio:.2f} |")
PY
