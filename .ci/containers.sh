#!/usr/bin/env bash
# CI for the container layer, after make setup (which installs and starts
# docker, the compose plugin and a base image: .ci/run runs it first, as the
# README says). Lints every Dockerfile, checks the compose files against the
# stage graph, builds the CPU image set (make images PROFILE=cpu: warm after
# make run), runs make run INPUT=<a short video of jfk.flac> PROFILE=cpu when
# .ci/run has not (CI_VIDEO), runs the container tests (tests/containers), the
# queue profile end to end on two inputs (.ci/queue.sh: make fleet-up, make
# submit, make status, make fleet-down, on the images just built), then reruns
# the job (every stage fresh). Prints the time of each step. Exit non-zero on
# failure.
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

export JOBS_DIR=${CI_JOBS_DIR:-$(mktemp -d /tmp/ci-containers.XXXXXX)/jobs}
export MODEL_CACHE=${CI_MODEL_CACHE:-$(dirname "$JOBS_DIR")/model-cache}
export EXECUTOR=containers  # never the native fallback here

step "docker (make setup made it ready)"
python3 -m host.containers check || fail "docker cannot run the pipeline here: run make setup first"
[ -x .venv/bin/hadolint ] || fail "no .venv/bin/hadolint: run make setup first"

step "lint: hadolint on every Dockerfile"
.venv/bin/hadolint --failure-threshold warning docker/*/Dockerfile
echo "$(ls docker/*/Dockerfile | wc -l) Dockerfiles clean"

step "compose files and stage Dockerfiles agree with shared/graph.py"
python3 docker/gen_compose.py --check
python3 docker/gen_dockerfiles.py --check
for f in docker-compose.yml docker-compose-fallback.yml; do
  JOB_ID=ci INPUT_DIR=/tmp INPUT_NAME=x.mp4 docker compose -f "$f" config -q
done

step "build the CPU image set (make images PROFILE=cpu)"
make images PROFILE=cpu
docker images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep '^whisperx-pipeline/' | sort
# whole outputs go to files before grep reads them: grep -q stops at its first match, and under
# pipefail the writer's broken pipe (SIGPIPE or BrokenPipeError) fails the step
python3 -m bench.images --smoke > "$(dirname "$JOBS_DIR")/bench-images.txt"
cat "$(dirname "$JOBS_DIR")/bench-images.txt"
grep -q "cpu profile: " "$(dirname "$JOBS_DIR")/bench-images.txt" || fail "bench.images --smoke did not report the image sizes"

VIDEO=${CI_VIDEO:-}
if [ -z "$VIDEO" ]; then
  step "make run INPUT=<jfk video> PROFILE=cpu"
  EVAL=""
  for d in /work/shared/eval-data "$REPO/../shared/eval-data"; do [ -f "$d/jfk.flac" ] && EVAL=$d && break; done
  [ -n "$EVAL" ] || fail "jfk.flac not found in /work/shared/eval-data or ../shared/eval-data"
  MEDIA_DIR=$(dirname "$JOBS_DIR")/media
  mkdir -p "$MEDIA_DIR"
  VIDEO="$MEDIA_DIR/jfk ci.mp4"
  ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i color=c=black:s=320x240:r=25 -i "$EVAL/jfk.flac" \
    -shortest -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac "$VIDEO"
  make run INPUT="$VIDEO" PROFILE=cpu
fi

step "check the outputs"
JOB=$(ls -d "$JOBS_DIR"/jfk-ci-* | head -1)
[ -d "$JOB" ] || fail "no job folder in $JOBS_DIR"
SRT=$(ls "$JOB"/subtitles/*.srt | head -1)
grep -q "fellow Americans" "$SRT" || { cat "$SRT" >&2; fail "the SRT lacks 'fellow Americans'"; }
MUXED=$(ls "$JOB"/mux/*.subtitled.mp4 | head -1)
SUBTITLE_CODECS=$(ffprobe -v error -select_streams s -show_entries stream=codec_name -of csv=p=0 "$MUXED")
grep -qx mov_text <<<"$SUBTITLE_CODECS" || fail "$MUXED has no mov_text subtitle stream (found: $SUBTITLE_CODECS)"
echo "SRT: $SRT"; echo "muxed: $MUXED (mov_text)"

step "container tests (make test-containers: images, FFmpeg formats, make run, make stage)"
make test-containers

step "queue: fleet-up, submit 2 inputs, status, fleet-down (.ci/queue.sh)"
CI_VIDEO=$VIDEO bash .ci/queue.sh

step "rerun: every stage fresh"
make run INPUT="$VIDEO" PROFILE=cpu >/dev/null 2>&1 || fail "the rerun failed"
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
