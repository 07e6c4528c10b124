"""The container executor's own logic, without docker: what it asks compose to do when stopped,
and how it reads the containers' exit codes (tests/containers/ run the real thing)."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from host.containers import jobs
from host.containers.cli import Fail


class FakeCompose:
    """Records every docker command; ``up`` receives a signal the way a user's kill delivers it."""

    def __init__(self, signum: int | None, exit_codes=None):
        self.signum, self.calls = signum, []
        self.codes = exit_codes or {}
        self.lock_held_at_stop = None

    def verb(self, cmd):
        return cmd[cmd.index("-f") + 2]

    def run(self, cmd, env=None):
        self.calls.append(self.verb(cmd))
        if self.signum is not None:
            os.kill(os.getpid(), self.signum)
            time.sleep(5)  # compose up would go on; the signal interrupts this
        return 0

    def quiet(self, cmd, env=None, timeout=None):
        verb = self.verb(cmd)
        self.calls.append(verb)
        if verb == "stop":
            with open(Path(env["JOBS_DIR"]) / env["JOB_ID"] / ".lock", "a") as other:  # another open file: refused while the executor holds it
                try:
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    self.lock_held_at_stop = False
                except BlockingIOError:
                    self.lock_held_at_stop = True
        if verb == "ps":
            rows = [{"Service": name, "State": "exited", "ExitCode": code} for name, code in self.codes.items()]
            return subprocess.CompletedProcess(cmd, 0, json.dumps(rows), "")
        return subprocess.CompletedProcess(cmd, 0, "", "")


@pytest.fixture
def media(tmp_path, monkeypatch):
    monkeypatch.setenv("JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.setenv("MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SKIP_STAGES", "pre-ner")
    path = tmp_path / "film.wav"
    path.write_bytes(b"RIFF media bytes")
    return path


def install(monkeypatch, fake):
    monkeypatch.setattr(jobs, "run", fake.run)
    monkeypatch.setattr(jobs, "quiet", fake.quiet)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_stops_the_project_before_the_job_lock_goes(media, tmp_path, monkeypatch, signum):
    fake = FakeCompose(signum, exit_codes={"demux": 0})
    install(monkeypatch, fake)
    monkeypatch.setattr(jobs.lifecycle, "discard", lambda run: False)  # keep the folder to look at
    previous = signal.getsignal(signum)
    with pytest.raises(Fail) as failed:
        jobs.run_job(media, "cpu", until="demux", build=False)
    assert failed.value.code == 128 + signum
    assert f"stopped by {signal.Signals(signum).name}" in str(failed.value)
    assert fake.calls[:3] == ["up", "stop", "kill"] and fake.calls[-1] == "down"
    assert fake.lock_held_at_stop is True
    assert signal.getsignal(signum) is previous  # the executor's handlers are gone afterwards
    (root,) = (tmp_path / "jobs").iterdir()
    summary = json.loads((root / "summary.json").read_text())
    assert summary["stopped_by"] == signal.Signals(signum).name
    with open(root / ".lock", "a") as other:  # and released at the end
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_without_a_signal_nothing_is_stopped(media, monkeypatch):
    fake = FakeCompose(None, exit_codes={"demux": 1})
    install(monkeypatch, fake)
    with pytest.raises(Fail):
        jobs.run_job(media, "cpu", until="demux", build=False)
    assert "stop" not in fake.calls and "kill" not in fake.calls and fake.calls[0] == "up"


def test_a_container_that_exited_137_unasked_was_killed_by_sigkill():
    assert jobs.container_codes({"asr": 137, "demux": 0, "mux": None}, None) == {"asr": -9, "demux": 0, "mux": None}
    assert jobs.container_codes({"asr": 137}, signal.SIGTERM) == {"asr": 137}  # the executor stopped it


def test_an_oom_killed_container_is_named_in_the_error(media, monkeypatch):
    fake = FakeCompose(None, exit_codes={"demux": 137})
    install(monkeypatch, fake)
    with pytest.raises(Fail) as failed:
        jobs.run_job(media, "cpu", until="demux", build=False)
    assert "demux was killed by SIGKILL — out of memory?" in str(failed.value)
    assert failed.value.code == 137


# --- whose files: the model cache is never chowned --------------------------------------------------

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files to another uid")


def test_the_containers_run_as_the_uid_the_user_chose(monkeypatch):
    monkeypatch.setenv("PIPELINE_UID", "2345")
    monkeypatch.setenv("PIPELINE_GID", "2346")
    assert jobs.container_user() == (2345, 2346)
    monkeypatch.setenv("PIPELINE_UID", "0")
    with pytest.raises(Fail, match="never run as root"):
        jobs.container_user()


@root_only
def test_root_runs_the_containers_as_the_owner_of_an_existing_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("PIPELINE_UID", raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv("MODEL_CACHE", str(cache))
    assert jobs.container_user() == (jobs.CONTAINER_UID, jobs.CONTAINER_UID)  # none yet
    cache.mkdir()
    os.chown(cache, 4242, 4243)
    assert jobs.container_user() == (4242, 4243)


@root_only
def test_an_existing_cache_is_never_chowned(tmp_path):
    cache = tmp_path / "cache"
    (cache / "huggingface").mkdir(parents=True)
    for path in (cache, cache / "huggingface"):
        os.chown(path, 4242, 4242)
        path.chmod(0o755)
    with pytest.raises(Fail, match="PIPELINE_UID=4242"):
        jobs.prepare_cache(cache, 1000, 1000)
    assert {p.stat().st_uid for p in (cache, cache / "huggingface")} == {4242}
    jobs.prepare_cache(cache, 4242, 4242)  # its owner writes it: nothing to do
    fresh = tmp_path / "fresh"
    jobs.prepare_cache(fresh, 1000, 1000)  # a cache made now is the containers' own
    assert (fresh.stat().st_uid, fresh.stat().st_gid) == (1000, 1000)


@root_only
def test_a_job_run_leaves_the_owner_of_the_cache_as_it_was(media, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    (cache / "embedded").mkdir(parents=True)
    for path in (cache, cache / "embedded"):
        os.chown(path, 4242, 4242)
    cache.chmod(0o777)
    monkeypatch.setenv("PIPELINE_UID", "1000")
    install(monkeypatch, FakeCompose(None, exit_codes={"demux": 0}))
    jobs.run_job(media, "cpu", until="demux", build=False)
    assert {p.stat().st_uid for p in (cache, cache / "embedded")} == {4242}
    (root,) = (tmp_path / "jobs").iterdir()
    assert root.stat().st_uid == 1000  # the job folder is the containers' to write
