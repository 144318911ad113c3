# shellcheck shell=bash
# Starts, probes and stops the control-plane processes (etcd, kube-apiserver,
# kube-controller-manager) by their pid files in the cluster directory. Sourced by up.sh and
# down.sh. A pid counts as ours only while /proc says it still runs the binary we started, so a
# recycled pid is never signalled.

# daemon_start DIR NAME BINARY ARGS... — runs BINARY in its own session (terminal signals do not
# reach it; down.sh is how it stops) with its output in DIR/logs/NAME.log and its pid in
# DIR/NAME.pid.
daemon_start() {
  local dir=$1 name=$2
  shift 2
  mkdir -p "$dir/logs"
  rm -f "$dir/$name.pid"
  # The inner shell writes its own pid and then becomes the binary, so the pid file is right
  # whether or not setsid had to fork. Fd 9 is up.sh's startup lock, which must not outlive it.
  # shellcheck disable=SC2016 # the inner shell expands $$, $0 and $@
  setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$dir/$name.pid" "$@" \
    </dev/null >>"$dir/logs/$name.log" 2>&1 9>&- &
  local deadline=$((SECONDS + 10))
  until [ -s "$dir/$name.pid" ]; do
    if [ $SECONDS -ge $deadline ]; then
      echo "cluster: $name did not start (no pid file after 10s)" >&2
      return 1
    fi
    sleep 0.05
  done
}

# pid_running PID — true while PID exists and is not a zombie waiting to be reaped.
pid_running() {
  local stat
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }  # the state follows the command name, which may hold spaces
  [ -n "$stat" ] && [ "${stat%% *}" != Z ]
}

# daemon_pid DIR NAME — prints the pid of NAME if it is running, else fails quietly.
daemon_pid() {
  local dir=$1 name=$2 pid exe
  [ -s "$dir/$name.pid" ] || return 1
  pid=$(<"$dir/$name.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [ "$(basename "${exe% (deleted)}")" = "$name" ] || return 1
  echo "$pid"
}

# daemon_stop DIR NAME [GRACE_SECONDS] — TERM, then KILL after the grace period; waits until the
# process is gone. Quiet success when it does not run.
daemon_stop() {
  local dir=$1 name=$2 grace=${3:-15} pid deadline
  if ! pid=$(daemon_pid "$dir" "$name"); then
    rm -f "$dir/$name.pid"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + grace))
  while pid_running "$pid" && [ $SECONDS -lt $deadline ]; do
    sleep 0.1
  done
  if pid_running "$pid"; then
    echo "cluster: $name ($pid) ignored TERM for ${grace}s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while pid_running "$pid" && [ $SECONDS -lt $deadline ]; do
      sleep 0.1
    done
  fi
  rm -f "$dir/$name.pid"
}
