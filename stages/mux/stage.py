"""mux: add the subtitle files as soft tracks, copying every other stream, then check the result."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from shared import schema
from shared.errors import StageFailed
from shared.ffmpeg import ffmpeg_version, run_ffmpeg
from shared.filenames import fitted, full_name
from shared.languages import same_language
from shared.log import get_logger
from shared.options.mux import MuxOptions
from shared.progress import ProgressHook, no_progress
from shared.stage import StageReport
from stages.mux.ffmpeg import probe_streams
from stages.mux.plan import DISPOSITIONS, Container, KeptStream, NewTrack, choose_container, choose_tracks, ffmpeg_args, plan_streams

log = get_logger("stages.mux")


def model_identity(options: MuxOptions) -> dict[str, Any]:
    """No model: the ffmpeg build that muxes."""
    return {"tool": "ffmpeg", "version": ffmpeg_version()}


def _language_ok(expected_tag: str, stream: dict[str, Any]) -> bool:
    found = str((stream.get("tags") or {}).get("language", "")).strip().lower()
    if expected_tag == "und":
        return found in ("", "und")
    return found == expected_tag or same_language(found, expected_tag)


def new_subtitle_streams(streams: list[dict[str, Any]], tracks: list[NewTrack]) -> list[dict[str, Any]]:
    """The output streams of the new tracks: the last subtitle streams."""
    subtitles = [s for s in streams if s.get("codec_type") == "subtitle"]
    return subtitles[max(0, len(subtitles) - len(tracks)):]


def verify(streams: list[dict[str, Any]], kept: list[KeptStream], tracks: list[NewTrack], name: str) -> None:
    """StageFailed unless the output has the kept streams and the new tracks, language-tagged."""
    found = Counter(s.get("codec_type", "") for s in streams)
    wanted = Counter(k.kind for k in kept if k.kind in ("video", "audio", "subtitle"))
    wanted["subtitle"] += len(tracks)
    for kind in ("video", "audio", "subtitle"):
        if found[kind] != wanted[kind]:
            raise StageFailed(f"{name} has {found[kind]} {kind} stream(s), expected {wanted[kind]}",
                              "ffmpeg did not mux as asked; report it with the input's ffprobe output")
    for track, stream in zip(tracks, new_subtitle_streams(streams, tracks)):
        if stream.get("codec_name") != track.codec:
            raise StageFailed(f"{name}: the {track.title} track is {stream.get('codec_name')}, expected {track.codec}")
        if not _language_ok(track.tag, stream):
            got = (stream.get("tags") or {}).get("language", "none")
            raise StageFailed(f"{name}: the {track.title} track is tagged {got!r}, expected {track.tag!r}",
                              "the container did not keep the language tag; MKV and MP4 keep any language")


def dispositions_dropped(streams: list[dict[str, Any]], tracks: list[NewTrack]) -> list[str]:
    """The titles of the tracks whose disposition (forced, hearing_impaired) the container did not keep."""
    return [t.title for t, stream in zip(tracks, new_subtitle_streams(streams, tracks))
            if t.disposition != "0" and not (stream.get("disposition") or {}).get(t.disposition)]


def retag_dropped_languages(streams: list[dict[str, Any]], tracks: list[NewTrack]) -> list[NewTrack]:
    """``tracks``, with those whose language tag the container dropped in the other ISO 639-2 form."""
    out = []
    for track, stream in zip(tracks, new_subtitle_streams(streams, tracks)):
        dropped = not str((stream.get("tags") or {}).get("language", "")).strip()
        out.append(track.other_tag_form() if dropped and track.tag != "und" else track)
    return out + tracks[len(out):]


def output_name(info: schema.MediaInfo, container: Container) -> str:
    """``<stem>.subtitled.<ext>``, the stem shortened when the name would not fit (shared/filenames.py)."""
    return fitted(info.stem, f".subtitled.{container.ext}")


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: MuxOptions,
        hook: ProgressHook = no_progress) -> StageReport:
    info = schema.load(inputs["media_info"], schema.MediaInfo)
    manifest = schema.load(inputs["subtitles"], schema.SubtitleManifest)
    container, notes = choose_container(info, options.mkv_subtitle_format)
    kept, more = plan_streams(info, container)
    notes += more
    tracks, more = choose_tracks(manifest, inputs["subtitles"].parent, container)
    notes += more
    if manifest.cue_count == 0:
        notes.append("the subtitles have no cues: the tracks are empty")

    folder = outputs["muxed_media"].parent
    out = folder / output_name(info, container)
    log.info("muxing %d subtitle track(s) (%s) into %s, %d stream(s) copied", len(tracks),
             ", ".join(f"{t.tag} {t.codec}" for t in tracks), out.name, len(kept))
    run_ffmpeg(ffmpeg_args(inputs["media"], out, container, kept, tracks), info.duration_s, hook,
               step="muxing", what=f"ffmpeg muxing {out.name}", hint="check the input and subtitle files; rerun to retry")
    streams = probe_streams(out)
    retagged = retag_dropped_languages(streams, tracks)
    if retagged != tracks:  # MOV keeps some languages only in the other ISO 639-2 form
        log.info("%s dropped language tag(s); muxing again with %s", container.ext.upper(),
                 ", ".join(t.tag for t in retagged if t not in tracks))
        tracks = retagged
        run_ffmpeg(ffmpeg_args(inputs["media"], out, container, kept, tracks), info.duration_s, hook,
                   step="muxing", what=f"ffmpeg muxing {out.name}", hint="check the input and subtitle files; rerun to retry")
        streams = probe_streams(out)
    verify(streams, kept, tracks, out.name)
    dropped = dispositions_dropped(streams, tracks)
    if dropped:
        notes.append(f"{container.ext.upper()} did not keep the disposition of {', '.join(dropped)}: "
                     "players tell them only by their title; MKV keeps it (give an .mkv input)")

    records = tuple({"language": t.language, "language_tag": t.tag, "format": t.source_format, "codec": t.codec,
                     "title": t.title, "kind": t.kind, "disposition": DISPOSITIONS.get(t.kind, "none"), "source": t.source}
                    for t in tracks)
    schema.write(outputs["muxed_media"], schema.MuxManifest(out.name, records,
                                                            full_name(info.stem, f".subtitled.{container.ext}", out.name)))
    return StageReport(
        model=model_identity(options),
        metrics={"container": container.name, "output": out.name, "subtitle_tracks": len(tracks),
                 "streams_copied": len(kept), "size_bytes": out.stat().st_size},
        notes=notes,
    )
