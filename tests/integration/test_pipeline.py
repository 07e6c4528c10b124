"""The whole native pipeline, as a user runs it: video in, subtitles and a
muxed video out; reruns skip fresh stages; a SIGKILL at any stage is
recovered by a rerun with identical results; bad input fails in one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.metrics import word_error_rate
from shared import graph
from shared.fsio import sha256_file
from tests.conftest import JFK_REFERENCE, REPO_ROOT, make_media, stage_env

pytestmark = pytest.mark.integration


def runner(media: Path, jobs_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "host.runner", str(media), "--jobs-dir", str(jobs_dir), *args],
                          cwd=REPO_ROOT, env=stage_env(jobs_dir, **env), capture_output=True, text=True, timeout=900)


def job_folder(result: subprocess.CompletedProcess) -> Path:
    for line in result.stdout.splitlines():
        if line.startswith("job folder: "):
            return Path(line.removeprefix("job folder: "))
    raise AssertionError(f"no job folder printed:\n{result.stdout}\n{result.stderr}")


def ffprobe_streams(path: Path) -> list[dict]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["streams"]


@pytest.fixture(scope="module")
def jfk_video(eval_data, tmp_path_factory) -> Path:
    """A short MP4: a colour video track and the JFK speech as AAC."""
    folder = tmp_path_factory.mktemp("media")
    return make_media(folder / "jfk test.mp4", "-f", "lavfi", "-i", "color=c=navy:s=160x90:r=5", "-i",
                      str(eval_data / "jfk.flac"), "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
                      "-c:a", "aac", "-b:a", "64k")


@pytest.fixture(scope="module")
def reference_run(jfk_video, tmp_path_factory):
    jobs_dir = tmp_path_factory.mktemp("jobs")
    result = runner(jfk_video, jobs_dir)
    assert result.returncode == 0, result.stderr
    return result, job_folder(result)


def subtitle_hashes(job: Path) -> dict[str, str]:
    folder = job / "subtitles"
    return {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.name not in ("lock.json", "outcome.json")}


def test_video_to_subtitles_and_muxed_video(reference_run):
    result, job = reference_run
    srt = job / "subtitles" / "jfk test.en.srt"
    assert srt.is_file()
    text = " ".join(line for line in srt.read_text().splitlines() if line and not line[0].isdigit())
    assert word_error_rate(JFK_REFERENCE, text) <= 0.10, text
    for ext in ("vtt", "ass", "json", "txt", "tsv"):
        assert (job / "subtitles" / f"jfk test.en.{ext}").is_file()
    muxed = job / "mux" / "jfk test.subtitled.mp4"
    streams = ffprobe_streams(muxed)
    kinds = {s["codec_type"]: s for s in streams}
    assert kinds["subtitle"]["codec_name"] == "mov_text"
    assert kinds["subtitle"]["tags"]["language"] == "eng"
    assert kinds["video"]["codec_name"] == "h264" and kinds["audio"]["codec_name"] == "aac"
    summary = json.loads((job / "summary.json").read_text())
    assert [s["stage"] for s in summary["stages"]] == [s.name for s in graph.topological_order()]
    ran = [s for s in summary["stages"] if s["status"] == "ran"]
    assert {"demux", "silero-vad", "asr", "diarization", "speakers", "subtitles", "mux"} <= {s["stage"] for s in ran}
    assert all(s["wall_s"] is not None for s in ran)
    assert not [s["stage"] for s in summary["stages"] if s["status"] == "skipped"]
    # ASR_MODEL=auto: translation runs for a forced track, and the English model chosen records no foreign passage
    translation = next(s for s in summary["stages"] if s["stage"] == "translation")
    assert translation["status"] == "ran" and any("no forced track" in n for n in translation["notes"]), translation
    assert str(muxed) in result.stdout and str(srt) in result.stdout


def test_rerun_skips_every_fresh_stage(jfk_video, reference_run):
    _, job = reference_run
    before = subtitle_hashes(job)
    again = runner(jfk_video, job.parent)
    assert again.returncode == 0, again.stderr
    summary = json.loads((job / "summary.json").read_text())
    assert {s["status"] for s in summary["stages"]} == {"fresh"}
    assert subtitle_hashes(job) == before


def test_from_stage_reruns_that_stage_and_after(jfk_video, reference_run):
    _, job = reference_run
    again = runner(jfk_video, job.parent, "--from", "subtitles", "--subtitles-max-chars-per-line", "30")
    assert again.returncode == 0, again.stderr
    status = {s["stage"]: s["status"] for s in json.loads((job / "summary.json").read_text())["stages"]}
    assert {status[n] for n in ("demux", "silero-vad", "asr", "diarization")} == {"fresh"}
    assert status["subtitles"] == status["mux"] == "ran"
    srt = (job / "subtitles" / "jfk test.en.srt").read_text()
    assert max(len(line) for line in srt.splitlines()) <= 30
    restored = runner(jfk_video, job.parent)  # back to the defaults: the option change is noticed
    assert restored.returncode == 0


@pytest.mark.parametrize("victim", ["demux", "asr", "mux"])
def test_sigkill_mid_stage_then_rerun_gives_the_same_outputs(jfk_video, reference_run, tmp_path, victim):
    _, reference_job = reference_run
    jobs_dir = tmp_path / "jobs"
    proc = subprocess.Popen([sys.executable, "-m", "host.runner", str(jfk_video), "--jobs-dir", str(jobs_dir)],
                            cwd=REPO_ROOT, env=stage_env(jobs_dir), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    partial = None
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(jobs_dir.glob(f"*/{victim}/.partial"))
        if found:
            partial = found[0]
            time.sleep(0.05)
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert partial is not None, f"{victim} never started"
    job = partial.parent.parent
    assert not (job / victim / "lock.json").exists()  # a killed stage claims nothing
    rerun = runner(jfk_video, jobs_dir)
    assert rerun.returncode == 0, rerun.stderr
    assert subtitle_hashes(job) == subtitle_hashes(reference_job)
    assert not (job / victim / ".partial").exists()
    muxed = "jfk test.subtitled.mp4"
    assert ffprobe_streams(job / "mux" / muxed) == ffprobe_streams(reference_job / "mux" / muxed)


# --- bad input ---------------------------------------------------------------------------------


def assert_one_line_failure(result: subprocess.CompletedProcess, reason: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors and reason in errors[0], result.stderr


def test_missing_file(tmp_path, jobs_dir):
    result = runner(tmp_path / "nope.mp4", jobs_dir)
    assert_one_line_failure(result, "input not found")
    assert not any(jobs_dir.iterdir())


def test_zero_byte_file(tmp_path, jobs_dir):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    assert_one_line_failure(runner(empty, jobs_dir), "empty")
    assert not any(jobs_dir.iterdir())


def test_text_file_named_mp4(tmp_path, jobs_dir):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 20)
    assert_one_line_failure(runner(fake, jobs_dir), "not a media file")
    assert not any(jobs_dir.iterdir())
    assert fake.read_text().startswith("this is not a video")  # the input is never touched


def test_video_without_audio(tmp_path, jobs_dir):
    silent_video = make_media(tmp_path / "mute.mp4", "-f", "lavfi", "-i", "color=c=red:s=64x64:d=2",
                              "-c:v", "libx264", "-preset", "ultrafast")
    assert_one_line_failure(runner(silent_video, jobs_dir), "no audio stream")
    assert not any(jobs_dir.iterdir())


def test_silence_only_succeeds_with_empty_subtitles(tmp_path, jobs_dir):
    silence = make_media(tmp_path / "silence.wav", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "5")
    result = runner(silence, jobs_dir)
    assert result.returncode == 0, result.stderr
    job = job_folder(result)
    assert (job / "subtitles" / "silence.en.srt").read_text().strip() == ""
    assert "no speech" in result.stdout


def test_path_with_spaces_and_non_ascii(eval_data, tmp_path, jobs_dir):
    folder = tmp_path / "Amélie à Paris"
    folder.mkdir()
    media = make_media(folder / "scène 1 (final).mkv", "-f", "lavfi", "-i", "color=c=black:s=64x64:r=2", "-i",
                       str(eval_data / "jfk.flac"), "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
                       "-c:a", "libopus")
    result = runner(media, jobs_dir)
    assert result.returncode == 0, result.stderr
    job = job_folder(result)
    assert (job / "subtitles" / "scène 1 (final).en.srt").is_file()
    streams = ffprobe_streams(job / "mux" / "scène 1 (final).subtitled.mkv")
    assert [s["codec_name"] for s in streams if s["codec_type"] == "subtitle"] == ["subrip"]
