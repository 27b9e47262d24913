# Shell functions for a private PostgreSQL 15 cluster on loopback, sourced by scripts/run and scripts/test.
#
# PostgreSQL refuses to run as root, so from a root shell the cluster belongs to the unprivileged
# `postgres` user and every server command runs through runuser; other users run it as themselves.

PG_BIN=/usr/lib/postgresql/15/bin

# Installs the PostgreSQL 15 server from Debian's packages when it is missing.
pg_ensure_installed() {
  if [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && command -v psql >/dev/null; then
    return 0
  fi
  echo "==> Installing PostgreSQL 15 (apt-get)" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql-15 postgresql-client-15 >/dev/null
}

# Runs a server command as the cluster's owner.
pg_as_owner() {
  # Runs from / (the owner may not be able to enter the current folder): callers pass absolute paths, which
  # pg_abs makes of whatever they were given.
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# The absolute form of a path, existing or not.
pg_abs() {
  realpath -m -- "$1"
}

# Makes a folder the cluster's owner can write, and every folder above it traversable for that owner.
pg_prepare_dir() {
  local dir=$1
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown postgres: "$dir"
    chmod 700 "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      echo "error: the postgres user cannot reach $dir; set TALKTIME_DATA_DIR to a folder under /var/tmp" >&2
      return 1
    fi
  fi
}

# Prints a free TCP port on 127.0.0.1.
pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# pg_init_cluster DIR MODE [PASSWORD_FILE]
#   MODE trust: no passwords (throwaway test clusters only).
#   MODE password: scram-sha-256 for every connection; the superuser's password is read from PASSWORD_FILE.
pg_init_cluster() {
  local dir mode=$2 password_file=${3:-}
  dir=$(pg_abs "$1")
  [ -f "$dir/PG_VERSION" ] && return 0
  pg_prepare_dir "$dir" || return 1
  if [ "$mode" = trust ]; then
    pg_as_owner "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  else
    local tmp_pw
    tmp_pw=$(mktemp)
    cp "$password_file" "$tmp_pw"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$tmp_pw"
    pg_as_owner "$PG_BIN/initdb" -D "$dir" -U postgres --auth=scram-sha-256 --pwfile="$tmp_pw" -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$tmp_pw"
  fi
}

# pg_start DIR PORT [extra server settings...]: starts the cluster on 127.0.0.1:PORT, TCP only, and waits.
pg_start() {
  local dir port=$2
  dir=$(pg_abs "$1")
  shift 2
  local options="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=''"
  local setting
  for setting in "$@"; do options="$options -c $setting"; done
  pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -o "$options" -w -t 60 start >/dev/null
}

pg_stop() {
  local dir
  dir=$(pg_abs "$1")
  [ -f "$dir/postmaster.pid" ] || return 0
  pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# Is the cluster in DIR running?
pg_running() {
  pg_as_owner "$PG_BIN/pg_ctl" -D "$(pg_abs "$1")" status >/dev/null 2>&1
}
