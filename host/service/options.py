"""Settings of the service and the watch folder (environment; README's settings table)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from shared.options import resolve, setting

__all__ = ["ServiceOptions", "WatchOptions", "is_loopback"]


@dataclass(frozen=True)
class ServiceOptions:
    """The HTTP API. It listens on loopback by default; anywhere else it refuses to
    start without ``API_TOKEN``, unless ``loopback_published`` says it runs in a container
    whose port only the host's loopback reaches (the api compose service). Uploads are streamed to ``data_dir`` (kept with
    their jobs: a job reads its media from there) and refused beyond
    ``max_upload_mb``; ``max_running_jobs`` jobs run at once, the rest wait."""

    host: str = setting("127.0.0.1", "HOST", "service: address the API listens on (anything but loopback needs API_TOKEN)")
    port: int = setting(9000, "PORT", "service: TCP port of the API")
    api_token: str = setting("", "API_TOKEN", "service: bearer token clients must send (Authorization: Bearer ...); required unless HOST is loopback")
    loopback_published: bool = setting(False, "API_LOOPBACK_PUBLISHED",
                                       "service: it runs in a container whose port is published on the host's loopback "
                                       "only (the api compose service): HOST=0.0.0.0 inside needs no API_TOKEN then")
    library_root: str = setting("", "LIBRARY_ROOT", "service: folder POST /jobs may read media from by path (empty: uploads only)")
    data_dir: str = setting("service-data", "SERVICE_DATA_DIR", "service: folder for uploads, request files and runner logs")
    max_upload_mb: int = setting(4096, "MAX_UPLOAD_MB", "service: largest upload accepted (413 beyond)")
    max_running_jobs: int = setting(1, "MAX_RUNNING_JOBS", "service: jobs run at once; the rest wait in a queue")
    watch_dir: str = setting("", "WATCH_DIR", "service: also watch this folder for new media (as make watch)")
    executor: str = setting("native", "SERVICE_EXECUTOR",
                            "service: where jobs run: native (host.runner processes beside the service) or queue "
                            "(the Celery workers on QUEUE_BROKER_URL, docs/SCALE.md)", ("native", "queue"))
    language_detection_model: str = setting("base", "LANGUAGE_DETECTION_MODEL", "service: multilingual Whisper model of POST /detect-language (base is embedded)")


@dataclass(frozen=True)
class WatchOptions:
    """The watch folder: every ``poll_interval_s`` it lists the folder; a media file
    whose size and modification time have not changed for ``stable_s`` is
    subtitled into ``<name>.<language>.srt`` beside it, unless a subtitle for
    ``language`` is already there."""

    language: str = setting("en", "WATCH_LANGUAGE", "watch: language spoken and written (<name>.<language>.srt); files with a subtitle in it are skipped")
    poll_interval_s: float = setting(10.0, "WATCH_POLL_INTERVAL_S", "watch: seconds between two looks at the folder")
    stable_s: float = setting(30.0, "WATCH_STABLE_S", "watch: a file is taken once its size has not changed for this long")
    diarize: bool = setting(False, "WATCH_DIARIZE", "watch: find who speaks (diarization, speaker labels); slower")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def service_options() -> ServiceOptions:
    return resolve(ServiceOptions)


def watch_options() -> WatchOptions:
    return resolve(WatchOptions)
