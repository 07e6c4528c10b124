"""The HTTP API (FastAPI): whisper-asr-webservice's ``/asr`` and ``/detect-language``,
and jobs with status for long work. docs/SERVICE.md is its reference.

Handlers check what they are sent, store the media, and hand a job to the
executor; they never run stage code. Every refusal is a 4xx whose ``detail``
says what to send instead, and leaves no job folder behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import shutil
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from host.service.executor import CANCELLED, DONE, FINAL, Executor, Submission, make_executor
from host.service.language import LanguageDetector
from host.service.limits import BodyLimit
from host.service.media import MediaError, StoredMedia, check_media, library_file, remove_upload, store_upload
from host.service.options import ServiceOptions, WatchOptions, is_loopback
from host.service.request import (
    TASKS,
    UNTIL,
    JobRequest,
    RequestError,
    asr_request,
    job_id_for,
    parse_bool,
    parse_choice,
    parse_int,
    parse_language,
)
from host.service.status import job_files, job_status, resolve_file, subtitle_file
from shared import log as logging_setup
from shared.errors import PipelineError
from shared.job import JOB_ID_PATTERN, default_jobs_dir
from shared.metadata import load_glossary, load_metadata

__all__ = ["create_app"]

log = logging_setup.get_logger("host.service")

MEDIA_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt", "txt": "text/plain", "tsv": "text/tab-separated-values",
               "json": "application/json"}
POLL_S = 0.25  # how often a waiting /asr looks at its job and its client


def create_app(options: ServiceOptions, executor: Executor | None = None, jobs_dir: Path | None = None,
               watch: WatchOptions | None = None) -> FastAPI:
    """The app. Without ``executor`` it makes the one ``SERVICE_EXECUTOR`` names (the native runner,
    or the queue: host/service/queue_executor.py) and closes it on shutdown;
    with ``options.watch_dir`` it also watches that folder (host/service/watch.py)."""
    jobs_dir = (jobs_dir or default_jobs_dir()).absolute()
    data_dir = Path(options.data_dir).absolute()
    own_executor = executor is None
    runner: Executor = executor or make_executor(options, jobs_dir, data_dir)
    detector = LanguageDetector(options.language_detection_model)
    max_bytes = options.max_upload_mb * (1 << 20)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = None
        if options.watch_dir:
            from host.service.watch import Watcher

            watcher = Watcher(Path(options.watch_dir), runner, jobs_dir, watch or WatchOptions())
            thread = threading.Thread(target=watcher.run, args=(stop,), name="watch", daemon=True)
            thread.start()
        yield
        stop.set()
        if own_executor:
            runner.close()
        if thread is not None:  # it waits for its cancelled job, then stops without marking the file failed
            thread.join(timeout=30)

    app = FastAPI(title="whisperx-pipeline", summary="Subtitles for films and episodes (docs/SERVICE.md)",
                  lifespan=lifespan, dependencies=[Depends(_bearer(options.api_token))])
    app.add_middleware(BodyLimit, max_bytes=max_bytes)

    async def stored(upload: Any, field: str, raw_pcm: bool = False) -> StoredMedia:
        if not isinstance(upload, UploadFile):
            raise HTTPException(422, f"{field}: missing; send the media as the multipart form field {field!r}")
        try:
            media = await store_upload(_chunks(upload), upload.filename, data_dir, max_bytes, raw_pcm)
        except MediaError as err:
            raise HTTPException(err.status, f"{field}: {err.reason}") from None
        if not raw_pcm:
            try:
                await run_in_threadpool(check_media, media.path)
            except MediaError as err:
                remove_upload(media)
                raise HTTPException(err.status, f"{field}: {err.reason}") from None
        return media

    def submit(media: Path, name: str, sha256: str, request: JobRequest, extra_args: tuple[str, ...] = (),
               pin: bool = False, wait: bool = False):
        job_id = job_id_for(name, sha256, request)
        submission = Submission(job_id, media, (*request.runner_args(), *extra_args))
        state = runner.submit(submission, pin=pin, wait=wait)
        if state.state == DONE and subtitle_file(jobs_dir / job_id, "srt") is None:  # its folder went: run again
            state = runner.submit(submission, pin=pin, wait=wait, again=True)
        return job_id, state

    @app.post("/asr", summary="whisper-asr-webservice's /asr: the media in, the subtitle text out")
    async def asr(request: Request) -> Response:
        try:
            job_request, output, encode = asr_request(dict(request.query_params))
        except RequestError as err:
            raise HTTPException(422, str(err)) from None
        async with request.form(max_part_size=64 * 1024) as form:  # its spooled temporary files closed after
            media = await stored(form.get("audio_file"), "audio_file", raw_pcm=not encode)
        job_id, state = submit(media.path, media.name, media.sha256, job_request, wait=True)
        while not state.done.is_set():
            if await request.is_disconnected():
                runner.release(job_id)
                return Response(status_code=499)
            await asyncio.sleep(POLL_S)
        runner.release(job_id)
        if state.state != DONE:
            status = 503 if state.state == CANCELLED else 500
            raise HTTPException(status, f"job {job_id} {state.state}: {state.error or 'no reason recorded'}")
        found = subtitle_file(jobs_dir / job_id, output)
        if found is None:
            raise HTTPException(500, f"job {job_id} finished without a {output} file; see GET /jobs/{job_id}")
        path, _ = found
        stem = media.name.rsplit(".", 1)[0]
        return Response(path.read_bytes(), media_type=MEDIA_TYPES[output],
                        headers={"Content-Disposition": f'attachment; filename="{stem}.{output}"',
                                 "Asr-Engine": "whisperx-pipeline", "X-Job-Id": job_id})

    @app.post("/detect-language", summary="whisper-asr-webservice's /detect-language")
    async def detect_language(request: Request) -> JSONResponse:
        try:
            encode = parse_bool("encode", request.query_params.get("encode"), default=True)
        except RequestError as err:
            raise HTTPException(422, str(err)) from None
        async with request.form(max_part_size=64 * 1024) as form:
            upload = form.get("audio_file")
            if not isinstance(upload, UploadFile):
                raise HTTPException(422, "audio_file: missing; send the media as the multipart form field 'audio_file'")
            try:
                media = await store_upload(_chunks(upload), upload.filename, data_dir / "detect", max_bytes)
                try:
                    detected = await run_in_threadpool(detector.detect, media.path, not encode)
                finally:
                    remove_upload(media)
            except MediaError as err:
                raise HTTPException(err.status, f"audio_file: {err.reason}") from None
            except PipelineError as err:
                raise HTTPException(503, logging_setup.mask_secrets(str(err))) from None
        return JSONResponse(detected.to_json())

    @app.post("/jobs", status_code=202, summary="a job for long work: the media (upload or library path) and options")
    async def create(request: Request) -> JSONResponse:
        async with request.form(max_part_size=1 << 20) as form:
            upload, path = form.get("file"), form.get("path")
            try:
                job_request = _job_request(form)
            except RequestError as err:
                raise HTTPException(422, str(err)) from None
            if isinstance(upload, UploadFile) == isinstance(path, str):
                raise HTTPException(422, "send either a media upload (form field 'file') or a 'path' under the library, not both")
            extras, extra_args = await _extras(form, data_dir)
            job_request = replace(job_request, extras_sha256=extras)
            if isinstance(path, str):
                try:
                    media_path = library_file(path, options.library_root)
                    await run_in_threadpool(check_media, media_path)
                    sha = await run_in_threadpool(_sha256, media_path)
                except MediaError as err:
                    raise HTTPException(err.status, f"path: {err.reason}") from None
                name = media_path.name
            else:
                media = await stored(upload, "file")
                media_path, name, sha = media.path, media.name, media.sha256
        job_id, state = submit(media_path, name, sha, job_request, extra_args, pin=True)
        return JSONResponse({"id": job_id, "state": state.state, "status_url": f"/jobs/{job_id}",
                             "options": job_request.to_json()}, status_code=202)

    @app.get("/jobs/{job_id}", summary="every stage's status, progress and timings; the files to fetch")
    async def status(job_id: str) -> JSONResponse:
        root = _job_root(jobs_dir, job_id)
        state = runner.state(job_id)
        if state is None and not root.is_dir():
            raise HTTPException(404, f"no job {job_id!r}")
        info = job_status(root, since=(state.started_at or state.submitted_at) if state else 0.0) if root.is_dir() else {}
        if state is not None:
            overall = state.public()
        else:  # a job of an earlier service run: what its folder says
            overall = {"state": DONE if (root / "summary.json").is_file() else "unknown"}
        return JSONResponse({"id": job_id, **overall, **info, "files": job_files(root) if root.is_dir() else []})

    @app.get("/jobs/{job_id}/files/{name:path}", summary="an output of the job (any path GET /jobs lists)")
    async def file(job_id: str, name: str) -> FileResponse:
        root = _job_root(jobs_dir, job_id)
        path = resolve_file(root, name) if root.is_dir() else None
        if path is None:
            raise HTTPException(404, f"no file {name!r} in job {job_id!r}; GET /jobs/{job_id} lists them")
        return FileResponse(path, filename=path.name)

    @app.delete("/jobs/{job_id}", summary="cancel a queued or running job")
    async def cancel(job_id: str) -> JSONResponse:
        _job_root(jobs_dir, job_id)
        state = runner.state(job_id)
        if state is None:
            raise HTTPException(404, f"job {job_id!r} is not queued or running in this service")
        if state.state in FINAL:
            raise HTTPException(409, f"job {job_id!r} is already {state.state}")
        runner.cancel(job_id)
        await run_in_threadpool(state.done.wait, 30)
        return JSONResponse({"id": job_id, "state": state.state}, status_code=202)

    return app


def _job_request(form: Any) -> JobRequest:
    """The options of ``POST /jobs`` (form fields); RequestError names a bad one."""
    targets = (_text(form, "target_languages") or "").split(",")
    return JobRequest(
        task=parse_choice("task", _text(form, "task"), TASKS, "transcribe"),
        language=parse_language("language", _text(form, "language")),
        initial_prompt=(_text(form, "initial_prompt") or "").strip()[:2000],
        diarize=parse_bool("diarize", _text(form, "diarize")),
        min_speakers=parse_int("min_speakers", _text(form, "min_speakers"), 0, 64),
        max_speakers=parse_int("max_speakers", _text(form, "max_speakers"), 0, 64),
        target_languages=tuple(parse_language("target_languages", code) for code in targets if code.strip()),
        until=parse_choice("until", _text(form, "until"), UNTIL, "mux"),
    )


def _bearer(token: str):
    """The auth dependency: with API_TOKEN set, every request needs ``Authorization: Bearer <token>``."""
    async def check(request: Request) -> None:
        if not token:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise HTTPException(401, "missing or wrong token: send the header 'Authorization: Bearer <API_TOKEN>'",
                                headers={"WWW-Authenticate": "Bearer"})
    return check


def _job_root(jobs_dir: Path, job_id: str) -> Path:
    if not JOB_ID_PATTERN.fullmatch(job_id) or ".." in job_id:
        raise HTTPException(404, f"no job {job_id!r}")
    return jobs_dir / job_id


def _text(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(1 << 20):
        yield chunk


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


async def _extras(form: Any, data_dir: Path) -> tuple[str, tuple[str, ...]]:
    """The request's metadata (a JSON file or text) and glossary (TSV), checked and kept
    under ``<data_dir>/requests/<hash>/``: (their hash, the runner's flags)."""
    given: dict[str, bytes] = {}
    for name in ("metadata", "glossary"):
        value = form.get(name)
        if isinstance(value, UploadFile):
            given[name] = await value.read(1 << 20)
        elif isinstance(value, str) and value.strip():
            given[name] = value.encode()
    if not given:
        return "", ()
    digest = hashlib.sha256(b"".join(k.encode() + b"\0" + v + b"\0" for k, v in sorted(given.items()))).hexdigest()
    folder = data_dir / "requests" / digest
    folder.mkdir(parents=True, exist_ok=True)
    args: list[str] = []
    try:
        for name, data in given.items():
            target = folder / ("metadata.json" if name == "metadata" else "glossary.tsv")
            target.write_bytes(data)
            (load_metadata if name == "metadata" else load_glossary)(target)
            args.append(f"--{name}={target}")
    except PipelineError as err:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(422, logging_setup.mask_secrets(str(err))) from None
    return digest[:16], tuple(args)


def check_listen(options: ServiceOptions) -> None:
    """Refuse to listen beyond loopback without a token (raises SystemExit with the fix), unless
    API_LOOPBACK_PUBLISHED says only the host's loopback reaches the container's port."""
    if not is_loopback(options.host) and not options.api_token and not options.loopback_published:
        raise SystemExit(f"error: HOST={options.host} is reachable from other machines, but API_TOKEN is empty: "
                         "set API_TOKEN to a long random string (clients send 'Authorization: Bearer <it>'), "
                         "or listen on 127.0.0.1 (in a container whose port is published on the host's loopback "
                         "only: API_LOOPBACK_PUBLISHED=true)")
