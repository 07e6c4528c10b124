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
