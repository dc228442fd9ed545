#!/usr/bin/env bash
# A private single-node Slurm on this machine for the e2e tests: munged, slurmctld and slurmd
# with every file (slurm.conf, munge key and socket, spool and state dirs, pid files, logs) under
# one state directory, so nothing depends on /etc/slurm or /etc/munge, and on ports of its own
# (16817/16818) so it never meets a Slurm the packages may have started.
#
# Sourced:   source slurm_local.sh
#            slurm_local_check || skip...      # prints why not when not root or binaries missing
#            trap 'slurm_local_stop "$STATE"' EXIT
#            slurm_local_start "$STATE"         # exports SLURM_CONF; sbatch/srun/squeue use it
# Command:   bash slurm_local.sh check | start STATE | stop STATE
#            (after `start`, clients need: export SLURM_CONF=STATE/slurm.conf)
#
# SLURM_LOCAL_CPUS sets the node's CPUs (default: this machine's, at least 2, so `srun -n 2`
# works inside a job even on a 1-core machine: slurmd is told to trust slurm.conf over the
# hardware). Each daemon runs in the foreground in the background of this shell; its pid is
# written to STATE/<daemon>.pid, and stop kills exactly those pids.

SLURM_LOCAL_CTLD_PORT=${SLURM_LOCAL_CTLD_PORT:-16817}
SLURM_LOCAL_SLURMD_PORT=${SLURM_LOCAL_SLURMD_PORT:-16818}
SLURM_LOCAL_DAEMONS=(munged slurmctld slurmd)

# slurm_local_check: 0 when this machine can run the private Slurm; else prints the reason.
slurm_local_check() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "not root (the local Slurm runs slurmd, which must be root)"; return 1
  fi
  local missing=() b
  for b in munged mungekey slurmctld slurmd sbatch srun squeue sinfo scontrol scancel; do
    command -v "$b" > /dev/null 2>&1 || missing+=("$b")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing ${missing[*]} (apt-get install slurmctld slurmd slurm-client munge)"; return 1
  fi
}

# _slurm_local_dir STATE: the absolute path the daemons are given for STATE. Unix sockets (munge's,
# slurmd's per-step ones in its spool dir) take at most 107 bytes, so a deep STATE is reached
# through a short symlink in /tmp instead.
_slurm_local_dir() {
  local dir
  dir=$(cd "$1" && pwd) || return 1
  if [ ${#dir} -gt 48 ]; then
    local link
    link=/tmp/slurm-local-$(printf %s "$dir" | md5sum | cut -c1-12)
    [ "$(readlink "$link" 2> /dev/null)" = "$dir" ] || ln -sfn "$dir" "$link"
    dir=$link
  fi
  echo "$dir"
}

# _slurm_local_alive STATE NAME: the recorded pid of NAME, when that process still runs and is
# ours (its command line names the state dir, so a recycled pid is never taken for it).
_slurm_local_alive() {
  local pidfile=$1/$2.pid pid
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$1/" || return 1
  echo "$pid"
}

_slurm_local_logs() {
  local f
  for f in "$1"/log/*.log; do
    [ -f "$f" ] || continue
    echo "----- $f (last 40 lines)" >&2
    tail -n 40 "$f" >&2
  done
}

# slurm_local_start STATE: writes the config, starts the three daemons and waits until the node
# is idle (60 s at most; on failure prints the daemons' logs, stops them and returns 1).
slurm_local_start() {
  local state=$1
  [ -n "$state" ] || { echo "slurm_local_start: no state dir" >&2; return 1; }
  mkdir -p "$state"
  # Daemons left over by an earlier run with the same state dir (killed test) go first.
  slurm_local_stop "$state" > /dev/null 2>&1 || true
  state=$(_slurm_local_dir "$state") || return 1
  rm -rf "$state"/{munge,spool,ctld,log,slurm.conf,plugstack.conf,*.pid}
  mkdir -p "$state"/{munge,spool,ctld,log}
  # munged refuses directories others can write to (and keys others can read).
  chmod 700 "$state" "$state/munge"

  local node cpus mem detected
  node=$(hostname -s)
  detected=$(slurmd -C 2> /dev/null | head -n 1) || detected=""
  cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<< "$detected")
  mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<< "$detected")
  [ -n "$cpus" ] || cpus=$(nproc)
  [ -n "$mem" ] || mem=1024
  [ "$cpus" -ge 2 ] || cpus=2
  cpus=${SLURM_LOCAL_CPUS:-$cpus}

  local munge_socket=$state/munge/munge.socket
  mungekey --create --keyfile="$state/munge/munge.key" --force > /dev/null 2>&1 \
    || dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
  chmod 600 "$state/munge/munge.key"
  : > "$state/plugstack.conf"
  cat > "$state/slurm.conf" << CONF
# Written by tests/e2e/scripts/slurm_local.sh: a private one-node cluster on $node.
ClusterName=flowoodtest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$SLURM_LOCAL_CTLD_PORT
SlurmdPort=$SLURM_LOCAL_SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$munge_socket
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/ctld/slurmctld.pidfile
SlurmdPidFile=$state/spool/slurmd.pidfile
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$state/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
MpiDefault=none
SwitchType=switch/none
LaunchType=launch/slurm
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
ReturnToService=2
SlurmdTimeout=60
MinJobAge=300
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus Sockets=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$state/slurm.conf

  munged -F --force --key-file="$state/munge/munge.key" --socket="$munge_socket" \
    --pid-file="$state/munge/munged.pidfile" --log-file="$state/log/munged.log" \
    --seed-file="$state/munge/munged.seed" > "$state/log/munged.out" 2>&1 &
  echo $! > "$state/munged.pid"
  for _ in $(seq 1 100); do [ -S "$munge_socket" ] && break; sleep 0.1; done
  if ! munge -S "$munge_socket" -n 2> /dev/null | unmunge -S "$munge_socket" > /dev/null 2>&1; then
    echo "slurm_local: munged does not answer on $munge_socket" >&2
    cat "$state/log/munged.out" >&2; _slurm_local_logs "$state"; slurm_local_stop "$state"; return 1
  fi
  # -D: foreground, so $! is the daemon; -c: a clean start, no jobs from saved state.
  slurmctld -D -c -f "$SLURM_CONF" > "$state/log/slurmctld.out" 2>&1 &
  echo $! > "$state/slurmctld.pid"
  slurmd -D -f "$SLURM_CONF" -N "$node" > "$state/log/slurmd.out" 2>&1 &
  echo $! > "$state/slurmd.pid"

  local st="" d
  for _ in $(seq 1 120); do
    st=$(sinfo -h -N -n "$node" -o '%T' 2> /dev/null | head -n 1) || st=""
    [ "$st" = idle ] && break
    for d in "${SLURM_LOCAL_DAEMONS[@]}"; do
      if ! _slurm_local_alive "$state" "$d" > /dev/null; then
        echo "slurm_local: $d exited during start" >&2
        cat "$state/log/$d.out" >&2; _slurm_local_logs "$state"; slurm_local_stop "$state"; return 1
      fi
    done
    sleep 0.5
  done
  if [ "$st" != idle ]; then
    echo "slurm_local: node $node not idle after 60 s (state '${st:-none}')" >&2
    sinfo -N -l >&2 || true; scontrol show node "$node" >&2 || true
    _slurm_local_logs "$state"; slurm_local_stop "$state"; return 1
  fi
  echo "slurm_local: node $node idle ($cpus CPUs, ${mem} MB), SLURM_CONF=$SLURM_CONF"
}

# slurm_local_stop STATE: cancels this cluster's jobs, then stops the daemons by their recorded
# pids (TERM, then KILL after 15 s) and waits until they are gone. Safe to call twice.
slurm_local_stop() {
  local state=$1 d pid
  [ -d "$state" ] || return 0
  state=$(_slurm_local_dir "$state") || return 1
  if [ -f "$state/slurm.conf" ] && _slurm_local_alive "$state" slurmctld > /dev/null; then
    # Running jobs' slurmstepd processes are not ours to kill by pid: let Slurm end them.
    if [ -n "$(SLURM_CONF=$state/slurm.conf squeue -h -o %i 2> /dev/null)" ]; then
      SLURM_CONF=$state/slurm.conf scancel --full -u "$(id -un)" 2> /dev/null || true
      for _ in $(seq 1 40); do
        [ -z "$(SLURM_CONF=$state/slurm.conf squeue -h -o %i 2> /dev/null)" ] && break
        sleep 0.5
      done
    fi
  fi
  # slurmd first (it talks to slurmctld on the way out), munged last (both use it).
  for d in slurmd slurmctld munged; do
    pid=$(_slurm_local_alive "$state" "$d") || { rm -f "$state/$d.pid"; continue; }
    kill -TERM "$pid" 2> /dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2> /dev/null; then
      echo "slurm_local: $d ($pid) ignored TERM; killing it" >&2
      kill -KILL "$pid" 2> /dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    fi
    # Reap it when it is our child (started by slurm_local_start in this shell).
    wait "$pid" 2> /dev/null || true
    rm -f "$state/$d.pid"
  done
  case "$state" in /tmp/slurm-local-*) rm -f "$state" ;; esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  case "${1:-}" in
    check) why=$(slurm_local_check) || { echo "$why"; exit 1; }; echo "ok" ;;
    start) [ $# -eq 2 ] || { echo "usage: $0 start STATE" >&2; exit 2; }
           # The daemons must outlive this command: detach them from its job control.
           slurm_local_start "$2" || exit 1
           disown -a ;;
    stop)  [ $# -eq 2 ] || { echo "usage: $0 stop STATE" >&2; exit 2; }
           slurm_local_stop "$2" ;;
    *) echo "usage: $0 check | start STATE | stop STATE" >&2; exit 2 ;;
  esac
fi
