# Shared by the benchmarks (source after scripts/lib/postgres.sh).

# bench_build: release builds of the server and talktime-bench; sets bin to their folder. BENCH_SCRATCH names a
# build folder of its own, so a benchmark can build while another build holds .build/.
bench_build() {
  echo "==> release build" >&2
  local scratch=(${BENCH_SCRATCH:+--scratch-path "$BENCH_SCRATCH"})
  swift build -c release "${scratch[@]}" --product talktime >&2
  swift build -c release "${scratch[@]}" --product talktime-bench >&2
  bin=$(swift build -c release "${scratch[@]}" --show-bin-path)
}

# bench_start_database WORK BIN: a durable PostgreSQL in WORK/postgres on a free port, the roles of
# db/bootstrap.sql, and the schema migrated with BIN/talktime. Sets port, DATABASE_URL and DATABASE_OWNER_URL.
bench_start_database() {
  local work=$1 bin=$2
  port=$(pg_free_port)
  pg_init_cluster "$work/postgres" trust
  pg_start "$work/postgres" "$port" max_connections=200 shared_buffers=512MB
  psql -q -h 127.0.0.1 -p "$port" -U postgres -v owner_password=x -v app_password=x -v database=talktime -f db/bootstrap.sql >/dev/null
  export DATABASE_URL="postgres://talktime_app@127.0.0.1:$port/talktime"
  export DATABASE_OWNER_URL="postgres://talktime_owner@127.0.0.1:$port/talktime"
  export LOG_LEVEL=error
  "$bin/talktime" migrate >/dev/null
}
