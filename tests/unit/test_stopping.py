"""Signals: the runner stops its stages (no orphans) and says which signal ended what."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host import stopping
from shared.lock import read_outcome
from tests.conftest import REPO_ROOT, make_media, stage_env

# a "stage" that starts a grandchild and ignores nothing: the group must take both down
TREE = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, only not yet reaped


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (read from /proc: the tree as it is now)."""
    children: dict[int, set[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, set()).add(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def test_names_and_exit_statuses():
    assert stopping.signal_name(signal.SIGTERM) == "SIGTERM"
    assert stopping.signal_of(-9) == 9 and stopping.signal_of(1) is None and stopping.signal_of(None) is None
    assert stopping.exit_status(-15) == 143 and stopping.exit_status(2) == 2
    assert stopping.killed_reason("asr", signal.SIGKILL).startswith("asr was killed by SIGKILL — out of memory?")
    assert stopping.killed_reason("asr", signal.SIGSEGV) == "asr was killed by SIGSEGV"


def test_stopping_signals_the_whole_group_and_starts_nothing_more(tmp_path):
    groups = stopping.ProcessGroups(grace_s=0.5)
    import threading

    result = {}
    worker = threading.Thread(target=lambda: result.update(code=groups.run([sys.executable, "-c", TREE])))
    worker.start()
    for _ in range(100):
        pids = groups.pids()
        if pids and len(descendants(pids[0])) == 1:
            break
        time.sleep(0.05)
    leader = groups.pids()[0]
    tree = {leader, *descendants(leader)}
    assert os.getpgid(leader) == leader and len(tree) == 2  # its own group, with its grandchild
    groups.stop(signal.SIGTERM)
    worker.join(10)
    assert result["code"] == -signal.SIGTERM
    time.sleep(0.2)
    assert not [pid for pid in tree if alive(pid)]
    assert groups.run([sys.executable, "-c", "pass"]) is None  # stopped: no new stage


def test_a_stage_that_ignores_sigterm_is_killed_after_the_grace_period():
    groups = stopping.ProcessGroups(grace_s=0.3)
    import threading

    result = {}
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    worker = threading.Thread(target=lambda: result.update(code=groups.run([sys.executable, "-c", code])))
    worker.start()
    while not groups.pids():
        time.sleep(0.02)
    time.sleep(0.5)  # the handler is in place
    groups.stop(signal.SIGTERM)
    started = time.monotonic()
    while worker.is_alive() and time.monotonic() - started < 10:
        groups.escalate()
        worker.join(0.1)
    assert result["code"] == -signal.SIGKILL


# --- the runner, as users run it, on a real stage ---------------------------------------------------


@pytest.fixture
def long_speech(tmp_path, eval_data) -> Path:
    """Two minutes of speech: asr runs for seconds, long enough to be stopped midway."""
    return make_media(tmp_path / "speech.flac", "-stream_loop", "11", "-i", str(eval_data / "jfk.flac"), "-c:a", "flac")


def start_runner(media: Path, jobs_dir: Path) -> subprocess.Popen:
    env = {**stage_env(None), "PYTHONPATH": str(REPO_ROOT), "SKIP_STAGES": "pre-ner", "ASR_MODEL": "tiny.en"}
    return subprocess.Popen([sys.executable, "-m", "host.runner", str(media), "--jobs-dir", str(jobs_dir),
                             "--until", "asr", "--parallel", "1"],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_stage(runner: subprocess.Popen, module: str, timeout_s: float = 120) -> int:
    """The pid of the runner's stage process running ``module``, once it has run for a moment."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert runner.poll() is None, runner.communicate()
        for pid in descendants(runner.pid):
            try:
                if module in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                    time.sleep(1.0)  # into its work (its SIGTERM handler is in place)
                    return pid
            except OSError:
                continue
        time.sleep(0.05)
    raise AssertionError(f"{module} never started")


def job_root(jobs_dir: Path) -> Path:
    (root,) = [p for p in jobs_dir.iterdir() if p.is_dir()]
    return root


def test_sigterm_to_the_runner_stops_its_stage_and_is_recorded(long_speech, jobs_dir):
    runner = start_runner(long_speech, jobs_dir)
    stage_pid = wait_for_stage(runner, "stages.asr")
    tree = {stage_pid, *descendants(stage_pid)}
    assert os.getpgid(stage_pid) == stage_pid != os.getpgid(runner.pid)  # the stage leads its own group
    runner.send_signal(signal.SIGTERM)
    out, err = runner.communicate(timeout=60)
    assert runner.returncode == 143, err
    assert not [pid for pid in tree if alive(pid)]  # no orphan
    assert err.strip().splitlines()[-1].startswith("error: stopped by SIGTERM; rerun the same command"), err
    root = job_root(jobs_dir)
    summary = json.loads((root / "summary.json").read_text())
    assert summary["stopped_by"] == "SIGTERM"
    asr = next(s for s in summary["stages"] if s["stage"] == "asr")
    assert asr["status"] == "stopped (SIGTERM)"
    outcome = read_outcome(root / "asr")
    assert outcome["status"] == "failed" and "SIGTERM" in outcome["error"]
    assert not (root / "asr" / ".partial").exists() and not (root / "asr" / "lock.json").exists()


def test_a_stage_killed_by_sigkill_is_named_with_its_signal(long_speech, jobs_dir):
    runner = start_runner(long_speech, jobs_dir)
    stage_pid = wait_for_stage(runner, "stages.asr")
    os.kill(stage_pid, signal.SIGKILL)  # what the out-of-memory killer does
    out, err = runner.communicate(timeout=60)
    assert runner.returncode == 137, err
    assert "stopped at asr: asr was killed by SIGKILL — out of memory?" in err, err
    root = job_root(jobs_dir)
    asr = next(s for s in json.loads((root / "summary.json").read_text())["stages"] if s["stage"] == "asr")
    assert asr["status"] == "killed (SIGKILL)" and "out of memory?" in asr["error"]
    outcome = read_outcome(root / "asr")
    assert outcome["signal"] == "SIGKILL" and outcome["exit_code"] == 137 and "out of memory?" in outcome["error"]
