"""One process per job: the job lock (shared/joblock.py), held by standalone stages and the runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from host.jobs import create_job
from shared import joblock
from shared.errors import JobError
from shared.lock import LOCK_FILE, read_lock, staleness
from tests.conftest import REPO_ROOT, make_media, run_stage, stage_env


@pytest.fixture
def job(tmp_path, jobs_dir):
    media = make_media(tmp_path / "tone.wav", "-f", "lavfi", "-i", "sine=f=440:d=120:sample_rate=48000", "-ac", "2")
    return create_job(media, jobs_dir=jobs_dir)


def test_a_stage_refuses_at_once_a_job_another_process_holds(job, jobs_dir):
    with joblock.acquire(job.root, job.id):
        proc = run_stage("demux", job.id, jobs_dir, "--force")
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: demux: job {job.id} is in use by pid {os.getpid()} (")
    assert "wait for it to finish" in last and f"kill {os.getpid()}" in last
    assert "Traceback" not in proc.stderr
    assert not (job.root / "demux" / LOCK_FILE).exists()


def test_a_second_holder_in_the_same_process_is_refused_and_the_lock_is_released_after(job):
    with joblock.acquire(job.root, job.id):
        with pytest.raises(JobError, match="is in use by pid"):
            joblock.acquire(job.root, job.id)
    joblock.acquire(job.root, job.id).release()


def test_a_process_handed_the_runners_lock_shares_it_instead_of_refusing(job, jobs_dir):
    with joblock.acquire(job.root, job.id) as held:
        env = stage_env(jobs_dir, **{joblock.FD_ENV: str(held.fd)})
        proc = subprocess.run([sys.executable, "-m", "stages.demux", "--job", job.id, "--jobs-dir", str(jobs_dir)],
                              cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, pass_fds=(held.fd,))
        assert proc.returncode == 0, proc.stderr
        with pytest.raises(JobError):  # the stage did not let go of the runner's lock
            joblock.acquire(job.root, job.id)


def test_a_forged_lock_descriptor_does_not_let_a_stage_in(job, jobs_dir):
    with joblock.acquire(job.root, job.id):
        proc = run_stage("demux", job.id, jobs_dir, **{joblock.FD_ENV: "1"})
    assert proc.returncode == 2 and "is in use by" in proc.stderr


def test_two_standalone_stages_on_one_job_never_corrupt_it(job, jobs_dir):
    refused = 0
    for _ in range(4):
        with ThreadPoolExecutor(2) as pool:
            procs = list(pool.map(lambda _: run_stage("demux", job.id, jobs_dir, "--force"), range(2)))
        for proc in procs:
            if proc.returncode != 0:
                assert proc.returncode == 2 and "is in use by pid" in proc.stderr.splitlines()[-1], proc.stderr
                refused += 1
        assert any(p.returncode == 0 for p in procs)
    assert refused >= 1  # they did overlap, and one gave way
    again = run_stage("demux", job.id, jobs_dir)
    assert again.returncode == 0 and json.loads(again.stdout.splitlines()[-1])["status"] == "fresh", again.stderr
    lock = read_lock(job.root / "demux")
    assert set(lock.outputs) == {"audio.wav", "media.json"}
    assert not (job.root / "demux" / ".partial").exists()


def test_a_lock_missing_a_declared_output_is_stale(job, jobs_dir):
    assert run_stage("demux", job.id, jobs_dir).returncode == 0
    stage_dir = job.root / "demux"
    lock = read_lock(stage_dir)
    (stage_dir / "audio.wav").unlink()
    data = json.loads((stage_dir / LOCK_FILE).read_text())
    del data["outputs"]["audio.wav"]
    (stage_dir / LOCK_FILE).write_text(json.dumps(data))
    assert staleness(stage_dir, lock.fingerprint, ("audio.wav", "media.json")) == ["output audio.wav is missing"]
    again = run_stage("demux", job.id, jobs_dir)
    assert again.returncode == 0 and json.loads(again.stdout.splitlines()[-1])["status"] == "ran", again.stderr


@pytest.mark.parametrize("change", [{"outputs": []}, {"inputs": "x"}, {"timings": None}, {"code": 5}, {"options": [1]}])
def test_a_lock_with_wrong_types_is_stale_not_a_crash(job, jobs_dir, change):
    assert run_stage("demux", job.id, jobs_dir).returncode == 0
    path = job.root / "demux" / LOCK_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    assert read_lock(job.root / "demux") is None
    again = run_stage("demux", job.id, jobs_dir)
    assert again.returncode == 0 and json.loads(again.stdout.splitlines()[-1])["status"] == "ran", again.stderr


def runner(*args: str, jobs_dir, cwd=REPO_ROOT, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "host.runner", *args, "--jobs-dir", str(jobs_dir)], cwd=cwd,
                          env=stage_env(jobs_dir, **env), capture_output=True, text=True, timeout=300)


def test_the_runner_holds_the_job_and_its_own_stages_share_it(job, jobs_dir):
    media = job.input_record().path
    with joblock.acquire(job.root, job.id):
        proc = runner(media, "--until", "demux", jobs_dir=jobs_dir)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"error: job {job.id} is in use by pid {os.getpid()}")
    assert not (job.root / "demux").exists()
    proc = runner(media, "--until", "demux", jobs_dir=jobs_dir)
    assert proc.returncode == 0, proc.stderr
    assert read_lock(job.root / "demux") is not None
    joblock.acquire(job.root, job.id).release()  # let go when the run ended


def test_a_container_given_its_executors_token_works_under_that_lock(job, jobs_dir):
    """Containers cannot be handed a descriptor: the container executor holds the lock on the
    host and gives its stages the token it wrote into the lock file (JOB_LOCK_TOKEN)."""
    with joblock.acquire(job.root, job.id) as held:
        assert len(held.token) == 32
        ok = run_stage("demux", job.id, jobs_dir, **{joblock.TOKEN_ENV: held.token})
        assert ok.returncode == 0, ok.stderr
        wrong = run_stage("demux", job.id, jobs_dir, "--force", **{joblock.TOKEN_ENV: "0" * 32})
        assert wrong.returncode == 2 and "is in use by" in wrong.stderr
        with pytest.raises(JobError):  # the stage never took or let go of the executor's lock
            joblock.acquire(job.root, job.id)
    # the executor is gone: its token counts for nothing, the stage takes the lock itself
    later = run_stage("demux", job.id, jobs_dir, "--force", **{joblock.TOKEN_ENV: held.token})
    assert later.returncode == 0, later.stderr
    assert joblock.holder(job.root / joblock.LOCK_NAME)["token"] != held.token
