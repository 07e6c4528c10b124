"""The service as its clients use it: real uvicorn on a loopback port, called over HTTP
exactly as Bazarr's provider calls it (raw PCM, encode=false) and as
whisper-asr-webservice's documentation shows (an MP4, encode=true); jobs with status;
bad requests refused with a 4xx that leaves nothing behind; the watch folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT, make_media, stage_env

pytestmark = pytest.mark.integration

FAST = "lyrics-detection,pre-ner,post-ner"  # what /jobs and the watch folder need not run in these tests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """``python -m host.service`` on a free loopback port, stopped (SIGTERM) after the test."""

    def __init__(self, root: Path, **env: str):
        self.root = root
        self.jobs = root / "jobs"
        self.data = root / "data"
        self.library = root / "library"
        self.library.mkdir(parents=True, exist_ok=True)
        self.jobs.mkdir(exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "service.log"
        self.env = stage_env(self.jobs, **{"PORT": str(self.port), "HOST": "127.0.0.1", "SERVICE_DATA_DIR": str(self.data),
                                           "LIBRARY_ROOT": str(self.library), "MAX_UPLOAD_MB": "1", "SKIP_STAGES": FAST, **env})
        self.env.pop("API_TOKEN", None) if "API_TOKEN" not in env else None
        self.proc: subprocess.Popen | None = None

    def start(self) -> Service:
        self.proc = subprocess.Popen([sys.executable, "-m", "host.service"], cwd=REPO_ROOT, env=self.env,
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the service exited:\n{self.log.read_text()}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the service did not listen within 60 s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)

    def leftovers(self) -> list[str]:
        """Job folders and stored uploads (a refused request must leave none)."""
        found = [p.name for p in self.jobs.iterdir()]
        uploads = self.data / "uploads"
        return found + ([p.name for p in uploads.iterdir()] if uploads.is_dir() else [])


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    svc = Service(tmp_path_factory.mktemp("service"), MAX_UPLOAD_MB="16").start()
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def jfk_pcm(eval_data, tmp_path_factory) -> bytes:
    """What Bazarr sends: the audio as raw 16 kHz mono s16le samples."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(eval_data / "jfk.flac"), "-ac", "1",
                          "-ar", "16000", "-f", "s16le", "-"], capture_output=True, check=True)
    return out.stdout


@pytest.fixture(scope="module")
def jfk_mp4(eval_data, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    return make_media(folder / "jfk.mp4", "-f", "lavfi", "-i", "color=c=navy:s=160x90:r=5", "-i",
                      str(eval_data / "jfk.flac"), "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
                      "-c:a", "aac", "-b:a", "64k")


def test_bazarr_raw_pcm(service, jfk_pcm):
    """Bazarr's whisper provider: encode=false, raw PCM, output=srt, task=transcribe, language=en."""
    started = time.monotonic()
    r = httpx.post(f"{service.url}/asr", params={"task": "transcribe", "language": "en", "output": "srt",
                                                 "encode": "false"},
                   files={"audio_file": ("audio_file", jfk_pcm)}, timeout=300)
    assert r.status_code == 200, r.text
    assert "fellow Americans" in r.text
    assert r.text.lstrip().startswith("1\n00:00:")
    assert r.headers["content-disposition"] == 'attachment; filename="audio_file.srt"'
    print(f"\n/asr raw PCM 11 s: {time.monotonic() - started:.1f} s")
    # the same audio again is the same job: answered from its folder, no second run
    again = httpx.post(f"{service.url}/asr", params={"output": "vtt", "encode": "false", "language": "en"},
                       files={"audio_file": ("audio_file", jfk_pcm)}, timeout=300)
    assert again.status_code == 200 and again.text.startswith("WEBVTT")
    assert again.headers["x-job-id"] == r.headers["x-job-id"]


def test_documented_curl_mp4(service, jfk_mp4):
    """whisper-asr-webservice's documented call: any media with encode=true."""
    with open(jfk_mp4, "rb") as f:
        r = httpx.post(f"{service.url}/asr", params={"encode": "true", "task": "transcribe", "output": "srt"},
                       files={"audio_file": ("jfk.mp4", f, "video/mp4")}, timeout=300)
    assert r.status_code == 200, r.text
    assert "fellow Americans" in r.text
    assert 'filename="jfk.srt"' in r.headers["content-disposition"]
    txt = httpx.post(f"{service.url}/asr", params={"output": "txt"},
                     files={"audio_file": ("jfk.mp4", jfk_mp4.read_bytes())}, timeout=300)
    assert txt.status_code == 200 and "-->" not in txt.text and "fellow Americans" in txt.text
    job = httpx.get(f"{service.url}/jobs/{r.headers['x-job-id']}").json()
    assert job["state"] == "done" and job["progress"] == 1.0
    statuses = {s["stage"]: s["status"] for s in job["stages"]}
    assert statuses["asr"] in ("ran", "fresh") and statuses["diarization"] == "skipped"


@pytest.fixture
def bad(tmp_path_factory):
    svc = Service(tmp_path_factory.mktemp("bad")).start()
    yield svc
    svc.stop()


def test_bad_requests_leave_nothing(bad, tmp_path):
    (bad.root / "outside.wav").write_bytes(b"RIFF")
    checks = [
        (httpx.post(f"{bad.url}/asr", timeout=30), 422, "audio_file: missing"),
        (httpx.post(f"{bad.url}/asr", files={"audio_file": ("a.wav", b"")}, timeout=30), 400, "empty"),
        (httpx.post(f"{bad.url}/asr", files={"audio_file": ("notes.txt", b"just some text\n" * 50)}, timeout=30),
         415, "no audio stream"),
        (httpx.post(f"{bad.url}/asr", params={"output": "docx"}, files={"audio_file": ("a.wav", b"x")}, timeout=30),
         422, "output: 'docx' is not one of"),
        (httpx.post(f"{bad.url}/asr", params={"language": "klingon"}, files={"audio_file": ("a.wav", b"x")},
                    timeout=30), 422, "language"),
        (httpx.post(f"{bad.url}/asr", params={"encode": "false"}, files={"audio_file": ("a.pcm", b"abc")}, timeout=30),
         400, "odd number of bytes"),
        (httpx.post(f"{bad.url}/asr", files={"audio_file": ("big.wav", os.urandom(3 << 20))}, timeout=60),
         413, "MAX_UPLOAD_MB"),
        (httpx.post(f"{bad.url}/jobs", data={"path": "../outside.wav"}, timeout=30), 403, "leaves the library"),
        (httpx.post(f"{bad.url}/jobs", data={"path": str(bad.root / "outside.wav")}, timeout=30), 403, "outside"),
        (httpx.post(f"{bad.url}/jobs", data={"path": "missing.mkv"}, timeout=30), 404, "no file"),
        (httpx.post(f"{bad.url}/jobs", timeout=30), 422, "either"),
        (httpx.post(f"{bad.url}/jobs", data={"path": "x.wav", "metadata": '{"cast": ["A"]}'}, timeout=30), 422,
         "cast[0] must be an object"),
        (httpx.get(f"{bad.url}/jobs/nope-123", timeout=30), 404, "no job"),
        (httpx.get(f"{bad.url}/jobs/x/files/..%2F..%2Fetc%2Fpasswd", timeout=30), 404, "no file"),
    ]
    (bad.library / "escape.wav").symlink_to(bad.root / "outside.wav")
    checks.append((httpx.post(f"{bad.url}/jobs", data={"path": "escape.wav"}, timeout=30), 403, "symbolic link"))
    for response, status, words in checks:
        assert response.status_code == status, (response.request.url, response.text)
        assert words in response.json()["detail"], response.text
    assert bad.leftovers() == []
    assert "Traceback" not in bad.log.read_text()


def test_token_required_and_never_shown(tmp_path, jfk_pcm):
    secret = "s3cret-token-for-the-test"
    svc = Service(tmp_path, API_TOKEN=secret).start()
    try:
        assert httpx.get(f"{svc.url}/jobs/x").status_code == 401
        wrong = httpx.get(f"{svc.url}/jobs/x", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "Authorization: Bearer" in wrong.json()["detail"]
        assert httpx.get(f"{svc.url}/jobs/x", headers={"Authorization": f"Bearer {secret}"}).status_code == 404
    finally:
        svc.stop()
    assert secret not in svc.log.read_text()
    # off loopback without a token it refuses to start, saying what to set
    env = stage_env(None, HOST="0.0.0.0", PORT=str(free_port()), API_TOKEN="")
    out = subprocess.run([sys.executable, "-m", "host.service"], cwd=REPO_ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode != 0 and "set API_TOKEN" in out.stderr


def test_jobs_api_library_path_status_files(service, eval_data):
    (service.library / "season 1").mkdir(exist_ok=True)
    media = service.library / "season 1" / "jfk.flac"
    media.write_bytes((eval_data / "jfk.flac").read_bytes())
    metadata = '{"title": "Inaugural Address", "cast": [{"actor": "John F. Kennedy", "character": "President"}]}'
    r = httpx.post(f"{service.url}/jobs", data={"path": "season 1/jfk.flac", "language": "en", "until": "subtitles",
                                                "metadata": metadata}, timeout=60)
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    deadline = time.monotonic() + 300
    while (status := httpx.get(f"{service.url}/jobs/{job_id}").json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    assert status["state"] == "done", status
    ran = [s for s in status["stages"] if s["status"] == "ran"]
    assert ran and all(s["wall_s"] is not None for s in ran)
    srt = next(name for name in status["files"] if name.endswith(".srt"))
    got = httpx.get(f"{service.url}/jobs/{job_id}/files/{srt}")
    assert got.status_code == 200 and "fellow Americans" in got.text
    assert httpx.get(f"{service.url}/jobs/{job_id}/files/job.json").status_code == 404  # outputs only
    assert httpx.get(f"{service.url}/jobs/{job_id}/files/subtitles/.lock").status_code == 404


def test_cancel_stops_the_runner(service, eval_data):
    """DELETE /jobs/{id} stops the runner's whole process group; the job says cancelled."""
    media = service.library / "long.wav"
    make_media(media, "-i", str(eval_data / "jfk.flac"), "-af", "aloop=loop=30:size=2e+06", "-t", "300")
    r = httpx.post(f"{service.url}/jobs", data={"path": "long.wav", "language": "en"}, timeout=60)
    job_id = r.json()["id"]
    while httpx.get(f"{service.url}/jobs/{job_id}").json()["state"] == "queued":
        time.sleep(0.2)
    # MAX_RUNNING_JOBS=1: a second job waits its turn; cancelled there, it never starts
    (service.library / "next.flac").write_bytes((eval_data / "jfk.flac").read_bytes())
    waiting = httpx.post(f"{service.url}/jobs", data={"path": "next.flac", "language": "en"}, timeout=60).json()
    assert httpx.get(f"{service.url}/jobs/{waiting['id']}").json()["state"] == "queued"
    assert httpx.delete(f"{service.url}/jobs/{waiting['id']}", timeout=60).json()["state"] == "cancelled"
    assert not (service.jobs / waiting["id"]).exists()
    cancelled = httpx.delete(f"{service.url}/jobs/{job_id}", timeout=60)
    assert cancelled.status_code == 202 and cancelled.json()["state"] == "cancelled"
    assert httpx.delete(f"{service.url}/jobs/{job_id}").status_code == 409
    deadline = time.monotonic() + 15  # SIGTERM to the group; SIGKILL after 10 s
    while (left := subprocess.run(["pgrep", "-f", "--", job_id], capture_output=True, text=True)).returncode == 0:
        assert time.monotonic() < deadline, f"still running after the cancel: {left.stdout}"
        time.sleep(0.5)
    assert left.returncode == 1, left.stderr  # 1: no process matched (2 would be pgrep's own error)


def test_detect_language(service, eval_data, jfk_pcm):
    r = httpx.post(f"{service.url}/detect-language", files={"audio_file": ("m.mp3", (eval_data / "multilingual.mp3").read_bytes())},
                   timeout=120)
    assert r.status_code == 200, r.text
    assert set(r.json()) >= {"detected_language", "language_code"}
    pcm = httpx.post(f"{service.url}/detect-language", params={"encode": "false"},
                     files={"audio_file": ("audio_file", jfk_pcm)}, timeout=120)
    assert pcm.json()["language_code"] == "en" and pcm.json()["detected_language"] == "english"


def test_watch_folder_real_run_and_restart(tmp_path, eval_data):
    library = tmp_path / "library"
    (library / "Show").mkdir(parents=True)
    episode = library / "Show" / "S01E01.flac"
    episode.write_bytes((eval_data / "jfk.flac").read_bytes())
    subtitled = library / "film.flac"
    subtitled.write_bytes((eval_data / "jfk.flac").read_bytes())
    (library / "film.eng.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nalready here\n")
    env = stage_env(tmp_path / "jobs", WATCH_STABLE_S="1", WATCH_POLL_INTERVAL_S="1", SKIP_STAGES=FAST,
                    SERVICE_DATA_DIR=str(tmp_path / "data"))

    def watch() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "host.service.watch", str(library), "--once"], cwd=REPO_ROOT,
                              env=env, capture_output=True, text=True, timeout=300)

    first = watch()
    assert first.returncode == 0, first.stderr
    srt = library / "Show" / "S01E01.en.srt"
    assert "fellow Americans" in srt.read_text()
    assert not (library / "film.en.srt").exists()  # it had English subtitles already
    assert len(list((tmp_path / "jobs").iterdir())) == 1
    stamp = srt.stat().st_mtime_ns
    second = watch()  # a restart: nothing to redo
    assert second.returncode == 0 and "subtitling" not in second.stderr
    assert srt.stat().st_mtime_ns == stamp


def _looped_pcm(jfk_pcm: bytes, times: int) -> bytes:
    return jfk_pcm * times


def _new_job_folder(service: Service, before: set[str], timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        new = {p.name for p in service.jobs.iterdir()} - before if service.jobs.is_dir() else set()
        if new:
            return new.pop()
        time.sleep(0.1)
    raise AssertionError("no job folder appeared")


def test_a_leaving_client_does_not_stop_a_shared_job(service, jfk_pcm):
    """Two clients ask for the same audio: one hangs up, the other still gets its subtitles.
    A client alone that hangs up stops its job."""
    import threading

    audio = _looped_pcm(jfk_pcm, 12)  # 132 s
    params = {"encode": "false", "language": "en", "output": "srt"}
    before = {p.name for p in service.jobs.iterdir()}
    answer: dict[str, httpx.Response] = {}
    stayer = threading.Thread(target=lambda: answer.setdefault("r", httpx.post(
        f"{service.url}/asr", params=params, files={"audio_file": ("a", audio)}, timeout=300)))
    stayer.start()
    job_id = _new_job_folder(service, before)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{service.url}/asr", params=params, files={"audio_file": ("a", audio)}, timeout=1.5)
    stayer.join(300)
    assert answer["r"].status_code == 200 and "fellow Americans" in answer["r"].text
    assert answer["r"].headers["x-job-id"] == job_id

    alone = _looped_pcm(jfk_pcm, 13)
    before = {p.name for p in service.jobs.iterdir()}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{service.url}/asr", params=params, files={"audio_file": ("b", alone)}, timeout=3)
    lone_id = _new_job_folder(service, before)
    deadline = time.monotonic() + 30
    while (state := httpx.get(f"{service.url}/jobs/{lone_id}").json().get("state")) != "cancelled":
        assert time.monotonic() < deadline, state
        time.sleep(0.3)


def test_a_failing_job_answers_500_with_the_runners_reason(tmp_path, jfk_pcm):
    svc = Service(tmp_path, ASR_MODEL="no-such-model").start()
    try:
        r = httpx.post(f"{svc.url}/asr", params={"encode": "false", "output": "srt"},
                       files={"audio_file": ("audio_file", jfk_pcm)}, timeout=300)
        assert r.status_code == 500
        assert "failed" in r.json()["detail"] and "stopped at asr" in r.json()["detail"]
        assert "no-such-model" in r.json()["detail"]
    finally:
        svc.stop()


def test_the_service_watches_a_folder_too(tmp_path, eval_data):
    """WATCH_DIR: the service subtitles what appears there, beside the API."""
    library = tmp_path / "watched"
    library.mkdir()
    svc = Service(tmp_path, WATCH_DIR=str(library), WATCH_STABLE_S="1", WATCH_POLL_INTERVAL_S="0.5").start()
    try:
        (library / "new.flac").write_bytes((eval_data / "jfk.flac").read_bytes())
        srt = library / "new.en.srt"
        deadline = time.monotonic() + 240
        while not srt.exists():
            assert time.monotonic() < deadline and svc.proc.poll() is None, svc.log.read_text()
            time.sleep(0.5)
        assert "fellow Americans" in srt.read_text()
    finally:
        svc.stop()


def test_a_service_stopped_mid_job_does_not_mark_the_file_failed(tmp_path, eval_data):
    library = tmp_path / "watched"
    library.mkdir()
    make_media(library / "long.wav", "-i", str(eval_data / "jfk.flac"), "-af", "aloop=loop=30:size=2e+06", "-t", "300")
    svc = Service(tmp_path, WATCH_DIR=str(library), WATCH_STABLE_S="0.5", WATCH_POLL_INTERVAL_S="0.5").start()
    try:
        _new_job_folder(svc, set())
        time.sleep(1)
    finally:
        svc.stop()
    assert svc.proc.returncode is not None
    assert not (library / "long.en.srt").exists()
    assert not (library / ".whisperx-watch.json").exists(), (library / ".whisperx-watch.json").read_text()
    assert "cancelled; taken again" in svc.log.read_text()
