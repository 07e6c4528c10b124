#!/usr/bin/env bash
# CI for the queue executor through compose, on CPU (docs/SCALE.md), after make images PROFILE=cpu
# (.ci/containers.sh runs it last): make fleet-up with one worker for each stage the jobs run,
# make submit of two short inputs (the jfk video, CI_VIDEO, and a flite clip; a file outside
# MEDIA_DIR is refused first), a wait for both
# jobs (the status module, CI_QUEUE_TIMEOUT_S), their SRTs' text and their summary.json checked,
# and make fleet-down whatever happens (with Redis's volume: the next run starts empty). The stage
# images are make images' own (fleet-up builds only what is missing: the small Redis image). Its
# own compose project (QUEUE_PROJECT), Redis port (REDIS_PORT), jobs and media folders, so a
# user's fleet on the same Docker host is untouched. A failure prints the status, the workers'
# logs and the stages' logs. Prints its time.
#
#   CI_VIDEO=<jfk video> bash .ci/queue.sh        # IMAGE_PREFIX, MODEL_CACHE as for make images
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
fail() { echo "CI queue: FAILED: $*" >&2; exit 1; }

export PROFILE=cpu
export QUEUE_PROJECT=${QUEUE_PROJECT:-whisperx-pipeline-ci-queue}
export REDIS_PORT=${REDIS_PORT:-16379}
WORK=$(mktemp -d /tmp/ci-queue.XXXXXX)
chmod 755 "$WORK"  # the media folder is mounted at its host path; the workers' user walks to it
export JOBS_DIR=$WORK/jobs MEDIA_DIR=$WORK/media
export MODEL_CACHE=${MODEL_CACHE:-$WORK/model-cache}
TIMEOUT_S=${CI_QUEUE_TIMEOUT_S:-240}
PY=${CI_QUEUE_PYTHON:-.venv/bin/python}  # make submit's and make status's python (the venv)
# CI_MAKE_FLAGS: extra make flags (a venv elsewhere: "VENV=/path -o /path/.installed")
read -r -a MAKE_FLAGS <<< "${CI_MAKE_FLAGS:-}"
RUN="demux silero-vad asr subtitles mux"  # the stages of the two jobs; every other one is switched off

# WORKERS: one for each stage of RUN, none for the others; SKIP_STAGES: the others.
read -r WORKERS SKIP < <(python3 - "$RUN" <<'EOF'
import sys
from shared import graph
run = sys.argv[1].split()
names = [s.name for s in graph.topological_order()]
print(",".join(f"{n}={int(n in run)}" for n in names), ",".join(n for n in names if n not in run))
EOF
)
WORKERS=${WORKERS//,/ }  # the pairs came joined by commas (read splits on spaces)

containers() { docker ps -a --filter "label=com.docker.compose.project=$QUEUE_PROJECT" --format '{{.Names}}'; }
down() {
  local code=$?
  if [ "$code" -ne 0 ]; then
    echo "--- status" >&2
    "$PY" -m host.queue status >&2 || true
    for c in $(containers); do echo "--- $c (last 40 lines)" >&2; docker logs --tail 40 "$c" >&2 2>&1 || true; done
    for f in "$JOBS_DIR"/*/logs/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  fi
  make "${MAKE_FLAGS[@]}" fleet-down >/dev/null || echo "CI queue: make fleet-down failed" >&2
  docker volume rm -f "${QUEUE_PROJECT}_redis-data" >/dev/null 2>&1 || true
  [ -z "$(containers)" ] || echo "CI queue: containers left: $(containers | tr '\n' ' ')" >&2
  echo "CI queue: $([ "$code" -eq 0 ] && echo passed || echo failed) in $(( $(date +%s) - started )) s"
  exit "$code"
}
trap down EXIT

# Two inputs in MEDIA_DIR: the jfk video and a flite clip of a sentence of our own.
[ -n "${CI_VIDEO:-}" ] && [ -f "$CI_VIDEO" ] || fail "CI_VIDEO (the jfk video .ci/run makes) is not a file: '${CI_VIDEO:-}'"
command -v flite >/dev/null || fail "flite is not installed (make system-deps installs it)"
mkdir -p "$MEDIA_DIR"
cp "$CI_VIDEO" "$MEDIA_DIR/jfk queue.mp4"
SENTENCE="The weather is nice today, and the garden is full of flowers."
flite -voice slt -t "$SENTENCE" -o "$WORK/clip.wav"
# stereo AAC in Matroska, as a film's track
ffmpeg -nostdin -hide_banner -loglevel error -y -i "$WORK/clip.wav" -ac 2 -c:a aac "$MEDIA_DIR/garden.mkv"
chmod -R a+rX "$MEDIA_DIR"

echo "== make fleet-up PROFILE=cpu WORKERS=\"$WORKERS\" (project $QUEUE_PROJECT, Redis on 127.0.0.1:$REDIS_PORT)"
t=$(date +%s)
make "${MAKE_FLAGS[@]}" fleet-up WORKERS="$WORKERS" >"$WORK/fleet-up.log" 2>&1 || { cat "$WORK/fleet-up.log" >&2; fail "make fleet-up"; }
# fleet-up builds what the queue profile needs beyond make images' set when missing: the broker
# (redis, its own builder, which says "building"); a stage or api image built here would mean
# make images missed it
grep -E "is missing|out of date" "$WORK/fleet-up.log" | grep -vE '/redis:' && fail "make fleet-up built stage or api images: make images PROFILE=cpu should have"
echo "fleet up in $(( $(date +%s) - t )) s"

echo "== make submit of a file outside MEDIA_DIR: refused (MEDIA_DIR unset: the running fleet's media mount)"
if env -u MEDIA_DIR make "${MAKE_FLAGS[@]}" submit INPUTS="$WORK/clip.wav" >/dev/null 2>"$WORK/refused"; then
  fail "make submit accepted $WORK/clip.wav, outside MEDIA_DIR"
fi
grep -qF "is not inside MEDIA_DIR ($MEDIA_DIR)" "$WORK/refused" || { cat "$WORK/refused" >&2; fail "no line naming MEDIA_DIR"; }
cat "$WORK/refused"

echo "== make submit INPUTS=$MEDIA_DIR (SKIP_STAGES=$SKIP)"
t=$(date +%s)
SKIP_STAGES=$SKIP make "${MAKE_FLAGS[@]}" submit INPUTS="$MEDIA_DIR" >"$WORK/ids" || fail "make submit"
[ "$(wc -l < "$WORK/ids")" -eq 2 ] || fail "make submit printed $(wc -l < "$WORK/ids") job ids, not 2"

echo "== wait for both jobs (at most $TIMEOUT_S s)"
while :; do
  states=$("$PY" -m host.queue status --json | python3 -c 'import json, sys; print(" ".join(sorted(json.loads(l)["state"] for l in sys.stdin)))')
  case "$states" in
    # done, and summarized: the delivery that ends a job writes its summary.json after the last outcome
    "done done") [ "$(ls "$JOBS_DIR"/*/summary.json 2>/dev/null | wc -l)" -eq 2 ] && break ;;
    *failed*) fail "a job failed: $states" ;;
  esac
  [ $(( $(date +%s) - t )) -lt "$TIMEOUT_S" ] || fail "the jobs are not done after $TIMEOUT_S s: $states"
  sleep 2
done
echo "both jobs done $(( $(date +%s) - t )) s after make submit"
make "${MAKE_FLAGS[@]}" status

echo "== check the outputs"
python3 - "$JOBS_DIR" "$WORK/ids" <<'EOF'
import json, sys
from pathlib import Path
jobs, ids = Path(sys.argv[1]), Path(sys.argv[2]).read_text().split()
expected = {"jfk-queue": "fellow Americans", "garden": "garden"}
for job_id in ids:
    root = jobs / job_id
    name = next((n for n in expected if job_id.startswith(n + "-")), None)
    if name is None:
        sys.exit(f"unexpected job {job_id}")
    summary = json.loads((root / "summary.json").read_text())
    rows = {s["stage"]: s["status"] for s in summary["stages"]}
    ran = {s: rows[s] for s in ("demux", "silero-vad", "asr", "subtitles", "mux")}
    if set(ran.values()) != {"ran"} or summary.get("executor") != "queue":
        sys.exit(f"{job_id}: summary.json says {rows}, executor {summary.get('executor')}")
    # the paths are the workers' (the jobs folder at /jobs there): re-rooted on this host's
    srts = [root / Path(p).relative_to(summary["folder"]) for p in summary["outputs"].get("subtitles", []) if p.endswith(".srt")]
    text = " ".join(p.read_text() for p in srts)
    if not srts or expected[name].lower() not in text.lower():
        sys.exit(f"{job_id}: no SRT with {expected[name]!r} (summary outputs {summary['outputs']}): {text[:300]!r}")
    print(f"{job_id}: {srts[0].name} has {expected[name]!r}; summary.json: {len(rows)} stages, {summary['wall_s']:.1f} s")
EOF
