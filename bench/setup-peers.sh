#!/bin/sh
# Installs what bench/peers.js compares ASE with and loads it with: nginx (nginx-light, with the
# realip, geo and map modules), HAProxy and wrk, through apt-get, only those missing. Needs root
# (or sudo) and a Debian/Ubuntu system; elsewhere install them with the system's package manager.
# bench/peers.js skips a peer it cannot find and says so under its table.
set -eu
missing=""
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing="$missing haproxy"
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
if [ -z "$missing" ]; then
  echo "peers: nginx, haproxy and wrk are installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "peers: apt-get not found; install$missing with this system's package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "peers: run as root (or with sudo) to install$missing" >&2
    exit 1
  fi
fi
echo "peers: installing$missing"
$SUDO apt-get update -qq
# The packages' own services are not wanted: the bench runs its own instances on free ports.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
for service in nginx haproxy; do
  if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now "$service" >/dev/null 2>&1 || true; fi
done
