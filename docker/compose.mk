# Containers: one image per stage, one compose project per job.
# Included from the Makefile (include docker/compose.mk); `make help` lists
# these targets with the native ones. docs/CONTAINERS.md explains the set-up.
#
# From the Makefile this relies on: PYTHON (the host's python3), PY and
# $(VENV)/.installed (the container tests; and make run when it falls back on
# the native runner), JOBS_DIR (exported; the host jobs folder). Nothing here
# needs the venv otherwise: the container executor, python3 -m host.containers,
# uses only the standard library.
#
# Settings (make variables or environment):
#   EXECUTOR=auto|containers|native   what make run does without a usable docker:
#                          auto runs natively (with a notice), containers refuses
#   PROFILE=auto|cpu|gpu   auto: gpu when `docker info` shows the NVIDIA runtime
#   DOCKER=docker          the docker CLI (BuildKit through buildx, or a CLI < 23)
#   BASE_IMAGE=...         the OS image the base builds FROM (python:3.11-slim-bookworm,
#                          or local/debian:bookworm from make base-image)
#   CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt   given to builds as a secret
#   WHEELS=index|wheelhouse, IMAGE_PREFIX, IMAGE_TAG, MODEL_CACHE, SKIP_STAGES,
#   FORCE_STAGES, and every stage setting (ASR_MODEL=base ...), passed to the
#   stages that read it.

PYTHON ?= python3
PROFILE ?= auto
JOBS ?= 2
LOCAL_BASE_IMAGE ?= local/debian:bookworm
DEBIAN_MIRROR ?= http://deb.debian.org/debian
CONTAINERS := $(PYTHON) -m host.containers

.PHONY: run stage shell batch images models wheelhouse base-image compose-files test-containers clean-images \
        fleet-up submit status fleet-down

run: ## containers: INPUT through every stage in its image (PROFILE=auto|cpu|gpu; builds missing images; OPTIONS='--force asr'; without docker: EXECUTOR=auto runs natively)
	@test -n "$$INPUT" || { echo 'usage: make run INPUT=movie.mp4 [PROFILE=cpu|gpu] [ASR_MODEL=base ...] [OPTIONS="--from subtitles"]'; exit 2; }
	@set -f; NATIVE_PYTHON="$(PY)" $(CONTAINERS) run "--profile=$$PROFILE" $${JOB_ID:+"--job-id=$$JOB_ID"} \
	  $${CONFIG:+"--config=$$CONFIG"} $${METADATA:+"--metadata=$$METADATA"} $${GLOSSARY:+"--glossary=$$GLOSSARY"} $$OPTIONS -- "$$INPUT"

stage: ## containers: one stage on one job: STAGE=asr JOB=<id> [OPTIONS=--force]
	@test -n "$$STAGE" -a -n "$$JOB" || { echo 'usage: make stage STAGE=asr JOB=<job-id> [OPTIONS=--force]'; exit 2; }
	@set -f; $(CONTAINERS) stage "$$STAGE" "--job=$$JOB" "--profile=$$PROFILE" -- $$OPTIONS

shell: ## containers: a bash shell in a stage's image: STAGE=asr [JOB=<id> for its mounts]
	@test -n "$$STAGE" || { echo 'usage: make shell STAGE=asr [JOB=<job-id>]'; exit 2; }
	$(CONTAINERS) shell "--profile=$$PROFILE" $${JOB:+"--job=$$JOB"} -- "$$STAGE"

batch: ## containers: many inputs, JOBS at a time: INPUTS='a.mp4 b.mkv' or INPUTS=folder [JOBS=2]
	@test -n "$$INPUTS" || { echo "usage: make batch INPUTS='a.mp4 b.mkv' (or a folder) [JOBS=2]"; exit 2; }
	@set -f; $(CONTAINERS) batch "--jobs=$$JOBS" "--profile=$$PROFILE" -- $$INPUTS

images: ## containers: build the base, every stage image of PROFILE (cpu or gpu) and the api's (docker/api)
	$(CONTAINERS) images "--profile=$$PROFILE"

models: ## containers: download ASR_MODEL, DIARIZATION_MODEL, TRANSLATION_MODEL (and HF_MODELS='org/a org/b') into the model cache (network; HF_TOKEN if gated)
	$(CONTAINERS) models $${ASR_MODEL:+"--model=$$ASR_MODEL"} $${HF_MODELS:+"--hf=$$HF_MODELS"}

wheelhouse: ## containers: every wheel the images install, once, into ./wheelhouse (then WHEELS=wheelhouse)
	$(CONTAINERS) wheelhouse --profile $(if $(filter gpu,$(PROFILE)),gpu,cpu)

base-image: ## containers: make local/debian:bookworm (LOCAL_BASE_IMAGE) with mmdebstrap, for hosts without a registry
	@command -v mmdebstrap >/dev/null || { echo 'error: mmdebstrap is missing: apt-get install mmdebstrap'; exit 1; }
	set -o pipefail; mmdebstrap --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
	  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
	  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
	  bookworm - "deb $$DEBIAN_MIRROR bookworm main" "deb $$DEBIAN_MIRROR bookworm-updates main" \
	  "deb $$DEBIAN_MIRROR-security bookworm-security main" \
	| $${DOCKER:-docker} import -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' - "$$LOCAL_BASE_IMAGE"
	@echo "made $$LOCAL_BASE_IMAGE; make images uses it when python:3.11-slim-bookworm is not here"

compose-files: ## containers: regenerate docker-compose*.yml and the stage and models Dockerfiles from shared/graph.py
	$(PYTHON) docker/gen_compose.py
	$(PYTHON) docker/gen_dockerfiles.py

test-containers: $(VENV)/.installed ## containers: the container tests (need docker; skipped without it)
	$(PY) -m pytest tests/containers $(PYTEST_ARGS)

clean-images: ## containers: remove this project's images (IMAGE_PREFIX); jobs and the model cache stay
	@ids=$$($${DOCKER:-docker} images --filter "reference=$${IMAGE_PREFIX:-whisperx-pipeline}/*" -q | sort -u); \
	  if [ -n "$$ids" ]; then $${DOCKER:-docker} image rm -f $$ids; else echo "no images"; fi; \
	  $${DOCKER:-docker} image prune -f --filter label=org.whisperx-pipeline.source

# The queue executor (docs/SCALE.md): Redis and a Celery worker per stage image on this host; jobs
# submitted from the venv (celery), their status read from the job folders.
fleet-up: ## queue: Redis, a worker per stage image and the api on 127.0.0.1:$PORT (WORKERS="asr=2 diarization=1"; MEDIA_DIR=films: the inputs' folder; PROFILE; OPTIONS=--no-api)
	@set -f; $(PYTHON) -m host.queue.fleet up "--profile=$$PROFILE" "--media-dir=$${MEDIA_DIR:-films}" $$OPTIONS $$WORKERS

submit: $(VENV)/.installed ## queue: one job per input, enqueued (INPUTS='a.mp4 b.mkv' or INPUTS=films/); prints the job ids
	@test -n "$$INPUTS" || { echo "usage: make submit INPUTS='a.mp4 b.mkv' (or a folder under MEDIA_DIR)"; exit 2; }
	@set -f; owner=; [ "$$(id -u)" != 0 ] || owner="--owner=auto"; \
	  QUEUE_BROKER_URL="$${QUEUE_BROKER_URL:-redis://localhost:$${REDIS_PORT:-6379}/0}" $(PY) -m host.queue submit $$owner $$OPTIONS -- $$INPUTS

status: $(VENV)/.installed ## queue: every submitted job, stage by stage (JOB=<id> for one)
	@$(PY) -m host.queue status $${JOB:+"$$JOB"}

fleet-down: ## queue: stop Redis, the workers and the api (Redis's volume is kept: what was queued waits for the next fleet-up)
	@$(PYTHON) -m host.queue.fleet down "--profile=$$PROFILE"
