# Stopping the processes a script started, with a bound on every wait: a CI run must never hang on a process
# that does not stop when asked. Sourced by scripts/test and bench/identity-login-storm.sh.

# Is PID running (as opposed to gone, or exited and not yet reaped)?
process_alive() { # PID
  local state
  state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# Sends SIGTERM to PID (a child of this shell) and waits up to SECONDS for it to exit. One that is still running
# then is reported on stderr, with its threads' backtraces (when gdb is at hand) and the end of LOG, and killed
# with SIGKILL; the function then returns 1. Its own exit status is not a failure: a signal is how it stops.
stop_within() { # SECONDS NAME PID [LOG]
  local seconds=$1 name=$2 pid=$3 log=${4:-} tenths=0
  kill "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  while process_alive "$pid"; do
    if [ "$tenths" -ge $((seconds * 10)) ]; then
      echo "warning: $name (pid $pid) was still running $seconds s after SIGTERM; killing it with SIGKILL" >&2
      if command -v gdb >/dev/null; then
        echo "--- $name's threads:" >&2
        timeout -s KILL 90 gdb -p "$pid" -batch -ex 'thread apply all bt 25' 2>&1 | grep -E '^(Thread|#)' | head -n 600 >&2 || true
      fi
      if [ -n "$log" ] && [ -f "$log" ]; then
        echo "--- the last lines of $name's log:" >&2
        tail -n 40 "$log" >&2
      fi
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      return 1
    fi
    sleep 0.1
    tenths=$((tenths + 1))
  done
  wait "$pid" 2>/dev/null || true
  if [ "$tenths" -ge 50 ]; then echo "note: $name took $((tenths / 10)) s to stop after SIGTERM" >&2; fi
  return 0
}

# Kills, with a report on stderr, every process still running with VARIABLE=VALUE in its environment (other than
# this shell): whatever a script started, directly or not, and did not stop. A script exports a variable of its
# own at its start to mark its processes. Returns 1 if there was one.
kill_marked() { # NAME VARIABLE VALUE
  local name=$1 marker="$2=$3" environ pid pids=""
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    if [ "$pid" != "$$" ] && [ "$pid" != "$BASHPID" ] && process_alive "$pid" &&
      grep -qzxF -- "$marker" "$environ" 2>/dev/null; then
      pids="$pids $pid"
    fi
  done
  [ -n "$pids" ] || return 0
  echo "warning: $name still running; killing them:" >&2
  # shellcheck disable=SC2086
  ps -o pid=,etimes=,args= -p "$(echo $pids | tr ' ' ',')" >&2 || true
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  return 1
}
