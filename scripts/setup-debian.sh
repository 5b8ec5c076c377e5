#!/usr/bin/env bash
# Installs and starts what Slipway's demo and tests need on a Debian or
# Ubuntu machine (run as root): Debian's Docker engine (docker.io), git,
# Python 3 with venv, and mmdebstrap with Debian's archive keys (it builds
# the local Postgres image the tests run from Debian trixie's postgresql-17,
# once per machine: internal/pgimage). Go must already be installed (https://go.dev/dl/).
# Safe to re-run: it installs only what is missing and starts dockerd only
# when no engine answers. With --bench it also installs wrk and haproxy for
# `go run mage.go bench:router`.
#
# It also makes the base image Dockerfile apps start FROM,
# debian:bookworm-slim, when the engine lacks it: Debian's mmdebstrap
# --variant=minbase (about 60 s), imported with the official image's PATH
# and CMD. Our machines can pull no image; a user's machine pulls the
# official one instead (`docker pull debian:bookworm-slim`), and this step
# then finds it and does nothing.
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

base=debian:bookworm-slim
if docker image inspect "$base" >/dev/null 2>&1; then
  log "$base is there"
else
  if ! command -v mmdebstrap >/dev/null 2>&1; then
    log "installing mmdebstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
  fi
  log "making $base with mmdebstrap (about a minute; no image can be pulled here)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mmdebstrap --quiet --variant=minbase bookworm "$tmp/rootfs.tar"
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$tmp/rootfs.tar" "$base" >/dev/null
  log "made $base ($(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$base"))"
fi
