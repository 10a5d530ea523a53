#!/usr/bin/env bash
# The central store's real engines for tests and the bench: a single-node Ceph cluster (one
# monitor, one memstore OSD, the RADOS gateway as its S3 endpoint) and a PostgreSQL server, all
# made under one temporary folder, as Ceph's own vstart.sh does, and torn down with it.
#
#   central-servers.sh start DIR   make and start them under DIR (which must be empty or missing);
#                                  prints KEY=VALUE lines (S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY,
#                                  PG_URL, PG_DATA, PG_BIN) and writes them to DIR/env
#   central-servers.sh stop DIR    stop every daemon started under DIR (by the pids it recorded) and remove DIR
#   central-servers.sh check       exit 0 when the binaries are installed, 3 when not
#
# Ports are chosen free on 127.0.0.1. Nothing listens anywhere else. Ceph runs without
# cephx (auth none) on loopback only; PostgreSQL trusts local connections. Both are for tests.
set -euo pipefail

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"

have_all() {
  command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null && command -v radosgw >/dev/null &&
    command -v radosgw-admin >/dev/null && command -v ceph >/dev/null && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ]
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_for() { # seconds, description, command...
  local n=$1 what=$2
  shift 2
  for ((i = 0; i < n * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  echo "central-servers: $what did not come up in ${n}s" >&2
  return 1
}

start() {
  local D=$1
  mkdir -p "$D"
  D=$(cd "$D" && pwd)
  if [ -n "$(ls -A "$D")" ]; then echo "central-servers: $D is not empty" >&2; exit 2; fi
  chmod 711 "$D" # PostgreSQL runs as its own user and must reach DIR/pg
  mkdir -p "$D/mon" "$D/osd" "$D/run" "$D/log" "$D/rgw" "$D/pg"
  local mon rgw pg fsid osd_uuid
  mon=$(free_port); rgw=$(free_port); pg=$(free_port)
  fsid=$(cat /proc/sys/kernel/random/uuid); osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$D/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
run dir = $D/run
log file = $D/log/\$name.log
admin socket = $D/run/\$name.\$pid.asok
pid file = $D/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
osd crush chooseleaf type = 0
mon max pg per osd = 1000
ms bind ipv6 = false
# With auth none a client must not ask for the secure mode (radosgw's default for mons): crc everywhere.
ms mon client mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms cluster mode = crc
ms service mode = crc
[mon.a]
mon data = $D/mon
[osd.0]
osd data = $D/osd
osd objectstore = memstore
memstore device bytes = 4294967296
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw
rgw data = $D/rgw
rgw dns name = 127.0.0.1
EOF
  local C=(-c "$D/ceph.conf")
  ceph-authtool --create-keyring "$D/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon]" "$D/monmap" >/dev/null
  ceph-mon "${C[@]}" --mkfs -i a --monmap "$D/monmap" --keyring "$D/mon.keyring" 2>>"$D/log/setup.log"
  ceph-mon "${C[@]}" -i a 2>>"$D/log/setup.log"
  wait_for 30 "the Ceph monitor" timeout 5 ceph "${C[@]}" mon stat
  ceph "${C[@]}" osd new "$osd_uuid" >/dev/null
  ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$osd_uuid" 2>>"$D/log/setup.log"
  ceph-osd "${C[@]}" -i 0 2>>"$D/log/setup.log"
  wait_for 60 "the Ceph OSD" bash -c "timeout 5 ceph -c '$D/ceph.conf' osd dump | grep -q '^osd.0 up'"
  timeout 120 radosgw "${C[@]}" -n client.rgw.a 2>>"$D/log/setup.log"
  wait_for 120 "the RADOS gateway" curl -sf "http://127.0.0.1:$rgw/"
  local access secret
  access=$(head -c 10 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
  secret=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
  timeout 60 radosgw-admin "${C[@]}" user create --uid=bodycam --display-name=bodycam --access-key="$access" --secret-key="$secret" >/dev/null 2>>"$D/log/setup.log"

  # PostgreSQL: a private cluster under DIR, as the user that owns DIR/pg (initdb refuses root).
  local pguser=postgres
  if [ "$(id -u)" != 0 ]; then pguser=$(id -un); fi
  chown "$pguser" "$D/pg"
  chmod 700 "$D/pg"
  run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$pguser" -- "$@"; else "$@"; fi; }
  run_pg "$PG_BIN/initdb" -D "$D/pg/data" -U bodycam --auth=trust -E UTF8 >>"$D/log/setup.log" 2>&1
  mkdir -p "$D/pg/sock" && chown "$pguser" "$D/pg/sock"
  run_pg "$PG_BIN/pg_ctl" -D "$D/pg/data" -l "$D/pg/postgres.log" -w -t 60 \
    -o "-p $pg -c listen_addresses=127.0.0.1 -k $D/pg/sock -c fsync=on -c max_connections=200" start >>"$D/log/setup.log"
  run_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg" -U bodycam bodycam

  {
    echo "S3_ENDPOINT=http://127.0.0.1:$rgw"
    echo "S3_ACCESS_KEY=$access"
    echo "S3_SECRET_KEY=$secret"
    echo "PG_URL=postgres://bodycam@127.0.0.1:$pg/bodycam"
    echo "PG_DATA=$D/pg/data"
    echo "PG_BIN=$PG_BIN"
    echo "PG_USER=$pguser"
    echo "PG_PORT=$pg"
  } >"$D/env"
  cat "$D/env"
}

stop() {
  local D=$1
  [ -d "$D" ] || return 0
  if [ -f "$D/pg/data/postmaster.pid" ]; then
    local pguser=postgres
    if [ "$(id -u)" != 0 ]; then pguser=$(id -un); fi
    if [ "$(id -u)" = 0 ]; then runuser -u "$pguser" -- "$PG_BIN/pg_ctl" -D "$D/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
    else "$PG_BIN/pg_ctl" -D "$D/pg/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  fi
  local pids=()
  for f in "$D"/run/*.pid; do [ -f "$f" ] && pids+=("$(cat "$f")"); done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for ((i = 0; i < 40; i++)); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.25
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$D"
}

case "${1:-}" in
  start) have_all || { echo "central-servers: ceph-mon, ceph-osd, radosgw or PostgreSQL is not installed" >&2; exit 3; }; start "${2:?DIR}" ;;
  stop) stop "${2:?DIR}" ;;
  check) have_all || exit 3 ;;
  *) echo "usage: central-servers.sh start DIR | stop DIR | check" >&2; exit 2 ;;
esac
