# whisperx-pipeline: the user's surface. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
JOBS_DIR ?= jobs
export JOBS_DIR

# one install, every layer, constrained by the single pin list (the images install the same files layer by layer)
REQUIREMENTS := docker/requirements-common.txt docker/requirements-vad.txt docker/requirements-asr.txt \
                docker/requirements-models.txt docker/requirements-ml.txt docker/requirements-ner.txt \
                docker/requirements-translation.txt docker/requirements-lyrics.txt \
                docker/requirements-subtitles.txt docker/requirements-service.txt docker/requirements-fleet.txt \
                docker/requirements-dev.txt
# installed with --no-deps (each file says why)
NODEPS_REQUIREMENTS := docker/requirements-vad-nodeps.txt docker/requirements-asr-nodeps.txt \
                       docker/requirements-diarization-nodeps.txt

.DEFAULT_GOAL := help
.PHONY: help setup system-deps run-native stage-native report serve watch lint test test-unit bench eval docs clean-jobs

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

system-deps: ## system packages (Debian/Ubuntu, root or sudo): ffmpeg, flite, sox and chromium (tests), python3-venv, docker.io and mmdebstrap
	@bash docker/setup-host.sh packages

$(VENV)/.installed: $(REQUIREMENTS) $(NODEPS_REQUIREMENTS) docker/constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c docker/constraints.txt $(addprefix -r ,$(REQUIREMENTS))
	$(PIP) install -q --no-deps -c docker/constraints.txt $(addprefix -r ,$(NODEPS_REQUIREMENTS))
	$(PIP) install -q --no-deps -e .
	touch $@

setup: system-deps $(VENV)/.installed ## set this machine up for make run, run-native and test: packages, the venv, Docker (docker/setup-host.sh)
	@bash docker/setup-host.sh docker
	@echo "ready: make run INPUT=movie.mp4 (make run-native INPUT=movie.mp4 without Docker; make test)"

run-native: $(VENV)/.installed ## run the whole pipeline natively on INPUT [METADATA=m.json GLOSSARY=g.tsv OPTIONS='--force asr']
	@test -n "$$INPUT" || { echo 'usage: make run-native INPUT=movie.mp4'; exit 2; }
	@set -f; $(PY) -m host.runner $${METADATA:+"--metadata=$$METADATA"} $${GLOSSARY:+"--glossary=$$GLOSSARY"} $$OPTIONS -- "$$INPUT"

stage-native: $(VENV)/.installed ## run one stage natively on one job: STAGE=asr JOB=<id>
	@test -n "$$STAGE" -a -n "$$JOB" || { echo 'usage: make stage-native STAGE=asr JOB=<job-id>'; exit 2; }
	@set -f; $(PY) -m "stages.$${STAGE//-/_}" "--job=$$JOB" $$OPTIONS

report: ## write a job's report.html again (every run writes it): JOB=<id>; the venv's python when there is one, else python3
	@test -n "$$JOB" || { echo 'usage: make report JOB=<job-id>'; exit 2; }
	@set -f; py="$(PY)"; [ -x "$$py" ] || py="$(PYTHON)"; "$$py" -m host.report "--job=$$JOB"

serve: $(VENV)/.installed ## the HTTP API on HOST:PORT (127.0.0.1:9000): whisper-asr-webservice's /asr, jobs with status (docs/SERVICE.md)
	@$(PY) -m host.service

watch: $(VENV)/.installed ## subtitle new media in DIR as it appears: <name>.<lang>.srt beside it [ONCE=1: what is there now] (docs/SERVICE.md)
	@test -n "$$DIR" || { echo 'usage: make watch DIR=library/'; exit 2; }
	@$(PY) -m host.service.watch $${ONCE:+--once} -- "$$DIR"

lint: $(VENV)/.installed ## ruff over the repository, mypy over shared/, fleet/ and host/service/ (settings in pyproject.toml); make test runs it first
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: $(VENV)/.installed lint ## lint, then the test suite (unit and integration, real models, no network)
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: $(VENV)/.installed ## only the fast unit tests
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

bench: $(VENV)/.installed ## benchmarks: ratios against baselines measured in the same run (bench/README.md)
	$(PY) -m bench.asr_overhead
	$(PY) -m bench.diarization_speed
	$(PY) -m bench.scale
	$(PY) -m bench.film_cost

eval: $(VENV)/.installed ## accuracy on the eval recordings: names, speakers (DER), lyrics, film reels (docs/FILM.md), reading speed
	$(PY) -m bench.eval_names
	$(PY) -m bench.eval_speakers
	$(PY) -m bench.eval_lyrics
	$(PY) -m bench.eval_film
	$(PY) -m bench.reading_speed

docs: $(VENV)/.installed ## regenerate the README settings table from the options dataclasses
	$(PY) -m host.settings_doc README.md

clean-jobs: ## delete the job folders under JOBS_DIR
	rm -rf -- "$$JOBS_DIR"

# containers: make run, stage, shell, batch, images, models, wheelhouse (docs/CONTAINERS.md)
include docker/compose.mk

# Values the user types (file names, job ids, options) reach the commands exactly as typed: each is
# taken raw ($(value ...): make expands nothing in it), exported, and read by the recipe as "$$NAME",
# so neither make nor the shell ever reads it as code. OPTIONS is a list of flags: split on spaces
# (set -f: no wildcards), nothing else. Paths come last after "--", so a leading "-" is a name.
USER_VARIABLES := INPUT INPUTS METADATA GLOSSARY JOB JOB_ID STAGE CONFIG OPTIONS PROFILE JOBS \
                  ASR_MODEL HF_MODELS DIARIZATION_MODEL TRANSLATION_MODEL IMAGE_PREFIX LOCAL_BASE_IMAGE DEBIAN_MIRROR \
                  DIR ONCE HOST PORT WORKERS MEDIA_DIR
$(foreach v,$(USER_VARIABLES),$(if $(filter undefined,$(origin $(v))),,$(eval override $(v) := $$(value $(v)))$(eval export $(v))))
