"""The watch folder: new media in a library gets ``<name>.<language>.srt`` beside it.

    python -m host.service.watch library/ [--once]      # make watch DIR=library/

Every ``WATCH_POLL_INTERVAL_S`` the folder is listed (recursively; hidden
files and folders left out). A media file is taken once its size and
modification time have not changed for ``WATCH_STABLE_S`` (a copy in progress
is not), unless a subtitle in ``WATCH_LANGUAGE`` is beside it already
(``movie.en.srt``, ``movie.eng.forced.srt``, ``.vtt``/``.ass`` too: the names
Jellyfin, Plex and Kodi read). Its job runs through the executor (``SERVICE_EXECUTOR``:
native, or the queue's workers); the SRT is
written beside the video atomically. A restart redoes nothing finished (the
SRT is there); a file that failed is recorded in ``.whisperx-watch.json`` in
the folder and tried again only when it changes.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from host.service.executor import CANCELLED, DONE, Executor, Submission, make_executor
from host.service.options import WatchOptions, watch_options
from host.service.request import JobRequest, job_id_for
from host.service.status import subtitle_file
from shared import log as logging_setup
from shared.errors import PipelineError
from shared.fsio import atomic_write_bytes, atomic_write_json, read_json, sha256_file
from shared.job import default_jobs_dir
from shared.languages import to_iso639_1, to_iso639_2

__all__ = ["MEDIA_EXTENSIONS", "Watcher", "has_subtitle", "main", "sidecar_path"]

log = logging_setup.get_logger("host.service")

MEDIA_EXTENSIONS = frozenset({".mp4", ".mkv", ".avi", ".mov", ".m4v", ".webm", ".ts", ".m2ts", ".mts", ".wmv", ".mpg",
                              ".mpeg", ".flv", ".wav", ".mp3", ".flac", ".m4a", ".aac", ".ogg", ".opus"})
SUBTITLE_EXTENSIONS = frozenset({".srt", ".vtt", ".ass", ".ssa", ".sub"})
STATE_FILE = ".whisperx-watch.json"


def sidecar_path(media: Path, language: str) -> Path:
    """``movie.mkv`` -> ``movie.en.srt`` beside it."""
    return media.with_name(f"{media.stem}.{to_iso639_1(language)}.srt")


def has_subtitle(media: Path, language: str) -> bool:
    """A subtitle file for ``language`` beside ``media``: ``<stem>.<en|eng>[.tags].<srt|vtt|ass|ssa|sub>``."""
    codes = {to_iso639_1(language), to_iso639_2(language)}
    prefix = media.stem + "."
    for sibling in media.parent.iterdir():
        if sibling.suffix.lower() in SUBTITLE_EXTENSIONS and sibling.name.startswith(prefix):
            tags = sibling.name[len(prefix):-len(sibling.suffix)].lower().split(".")
            if codes & set(tags):
                return True
    return False


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # when this size and mtime were first seen


class Watcher:
    def __init__(self, folder: Path, executor: Executor, jobs_dir: Path, options: WatchOptions):
        self.folder = folder.absolute()
        self.executor = executor
        self.jobs_dir = jobs_dir.absolute()
        self.options = options
        self._seen: dict[Path, _Seen] = {}
        self.written: list[Path] = []  # the subtitles this watcher wrote (for its caller and tests)

    # --- what is there -------------------------------------------------------------------

    def media_files(self) -> list[Path]:
        found = []
        for path in sorted(self.folder.rglob("*")):
            rel = path.relative_to(self.folder)
            if any(part.startswith(".") for part in rel.parts) or path.suffix.lower() not in MEDIA_EXTENSIONS:
                continue
            if path.is_file():
                found.append(path)
        return found

    def _failures(self) -> dict[str, dict]:
        try:
            data = read_json(self.folder / STATE_FILE)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def pending(self, now: float | None = None) -> tuple[list[Path], list[Path]]:
        """(files ready to subtitle now, files still changing or waiting to be stable)."""
        now = time.monotonic() if now is None else now
        failures = self._failures()
        ready, waiting = [], []
        for path in self.media_files():
            if has_subtitle(path, self.options.language):
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            failed = failures.get(path.relative_to(self.folder).as_posix())
            if failed and failed.get("size") == stat.st_size and failed.get("mtime_ns") == stat.st_mtime_ns:
                continue  # failed before, unchanged since: not again
            seen = self._seen.get(path)
            if seen is None or (seen.size, seen.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                self._seen[path] = seen = _Seen(stat.st_size, stat.st_mtime_ns, now)
            if stat.st_size > 0 and now - seen.since >= self.options.stable_s:
                ready.append(path)
            else:
                waiting.append(path)
        return ready, waiting

    # --- doing it ------------------------------------------------------------------------

    def subtitle(self, media: Path) -> bool:
        """Run the job of one file and write its SRT beside it; False when it failed (recorded:
        not tried again until the file changes) or was cancelled (not recorded)."""
        request = JobRequest(language=self.options.language, until="subtitles", diarize=self.options.diarize)
        stat = media.stat()
        job_id = job_id_for(media.name, sha256_file(media), request)
        log.info("watch: subtitling %s (job %s)", media.relative_to(self.folder), job_id)
        state = self.executor.submit(Submission(job_id, media, tuple(request.runner_args())), pin=True)
        if state.state == DONE and subtitle_file(self.jobs_dir / job_id, "srt") is None:
            state = self.executor.submit(Submission(job_id, media, tuple(request.runner_args())), pin=True, again=True)
        state.done.wait()
        found = subtitle_file(self.jobs_dir / job_id, "srt") if state.state == DONE else None
        if state.state == CANCELLED:  # the service stopped, or a client cancelled: not the file's fault
            log.info("watch: %s: job %s cancelled; taken again on the next look", media.name, job_id)
            self._seen.pop(media, None)
            return False
        if found is None:
            reason = state.error or f"job {state.state} without an SRT"
            log.warning("watch: %s failed: %s (tried again when the file changes)", media.name, reason)
            failures = self._failures()
            failures[media.relative_to(self.folder).as_posix()] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                                                                    "job": job_id, "error": reason}
            atomic_write_json(self.folder / STATE_FILE, failures)
            return False
        target = sidecar_path(media, self.options.language)
        atomic_write_bytes(target, found[0].read_bytes())
        self.written.append(target)
        log.info("watch: wrote %s", target.relative_to(self.folder))
        return True

    def run(self, stop: threading.Event, once: bool = False) -> int:
        """Watch until ``stop`` is set; ``once``: until every file there now is done or failed.
        Returns the number of files that failed."""
        failed = 0
        log.info("watch: %s every %.0f s (%s subtitles; files stable for %.0f s)", self.folder,
                 self.options.poll_interval_s, self.options.language, self.options.stable_s)
        while not stop.is_set():
            ready, waiting = self.pending()
            for media in ready:
                if stop.is_set():
                    break
                failed += 0 if self.subtitle(media) else 1
            if once and not waiting and not ready:
                break
            stop.wait(min(self.options.poll_interval_s, self.options.stable_s) if once else self.options.poll_interval_s)
        return failed


def main(argv: list[str] | None = None) -> int:
    logging_setup.configure()
    parser = argparse.ArgumentParser(prog="python -m host.service.watch",
                                     description="Subtitle new media that appears in a folder (docs/SERVICE.md).")
    parser.add_argument("folder", type=Path, help="the library folder to watch")
    parser.add_argument("--once", action="store_true", help="do what is there now, then exit")
    parser.add_argument("--jobs-dir", type=Path, default=None, help="folder of jobs (default: $JOBS_DIR or ./jobs)")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"error: {args.folder} is not a folder: give the library folder (make watch DIR=library/)", file=sys.stderr)
        return 2
    try:
        options = watch_options()
        from host.service.options import service_options
        service = service_options()
    except PipelineError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    jobs_dir = (args.jobs_dir or default_jobs_dir()).absolute()
    executor = make_executor(replace(service, max_running_jobs=1), jobs_dir, Path(service.data_dir).absolute())
    stop = threading.Event()
    try:
        failed = Watcher(args.folder, executor, jobs_dir, options).run(stop, once=args.once)
    except KeyboardInterrupt:
        print("interrupted; a rerun goes on where this one stopped", file=sys.stderr)
        return 130
    finally:
        executor.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
