#!/usr/bin/env bash
# Installs and starts what Slipway's demo and tests need on a Debian or
# Ubuntu machine (run as root): Debian's Docker engine (docker.io), git,
# Python 3 with venv, and mmdebstrap with Debian's archive keys (it builds
# the local Postgres image the tests run from Debian trixie's postgresql-17,
# once per machine: internal/pgimage). Go must already be installed (https://go.dev/dl/).
# Safe to re-run: it installs only what is missing and starts dockerd only
# when no engine answers. With --bench it also installs wrk and haproxy for
# `go run mage.go bench:router`.
set -euo pipefail

log() { echo "setup: $*" >&2; }

packages=()
command -v dockerd >/dev/null 2>&1 || packages+=(docker.io)
command -v iptables >/dev/null 2>&1 || packages+=(iptables)
command -v git >/dev/null 2>&1 || packages+=(git)
command -v python3 >/dev/null 2>&1 || packages+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || packages+=(python3-venv)
command -v mmdebstrap >/dev/null 2>&1 || packages+=(mmdebstrap)
[[ -e /usr/share/keyrings/debian-archive-keyring.gpg ]] || packages+=(debian-archive-keyring)
if [[ "${1:-}" == "--bench" ]]; then
  command -v wrk >/dev/null 2>&1 || packages+=(wrk)
  command -v haproxy >/dev/null 2>&1 || packages+=(haproxy)
fi
if ((${#packages[@]})); then
  log "installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: /tmp/slipway-dockerd.log)"
  # In its own session: a job runner that ends the caller's process group
  # (a CI step, a timed-out shell) must not take the engine with it.
  setsid nohup dockerd >>/tmp/slipway-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    log "dockerd did not start; its log:"
    tail -50 /tmp/slipway-dockerd.log >&2
    exit 1
  fi
fi
log "Docker $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
