"""What goes into the muxed file: the output container, the input streams
kept, and one subtitle track per language. Pure functions of media.json and
the subtitle manifest, so that they are tested without ffmpeg.

Containers
----------
* MP4 / M4V / MOV keep their container; new tracks are ``mov_text`` (the
  only text subtitle codec players read in MP4), made from the SRT files.
* MKV stays MKV; new tracks are SRT, or ASS with ``MUX_MKV_SUBTITLE_FORMAT=ass``.
* WebM stays WebM; new tracks are WebVTT (the only subtitle codec WebM allows).
* An audio-only input (WAV, FLAC, MP3, M4A, ...) becomes a Matroska audio
  file (``.mka``) with the audio streams and the tracks; cover art is left out.
* A video container that cannot carry text subtitle tracks (AVI, MPEG-TS,
  FLV, WMV, ...) becomes Matroska video (``.mkv``), not ``.mka``: Matroska
  carries any of their codecs as they are, and dropping the picture of a
  film to add its subtitles would help no one.

Existing subtitle tracks are kept when the output container carries their
codec, converted when they are text the container carries in another text
codec (MP4 ``mov_text`` into MKV), else dropped with a note; data streams
(telemetry, chapters as text) are dropped with a note, except a QuickTime
timecode track going back into MP4/MOV; attachments (fonts) are kept in
Matroska only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from shared.errors import InputError, StageFailed
from shared.languages import TERMINOLOGIC, language_name, to_iso639_2
from shared.schema import MediaInfo, SubtitleManifest

AUDIO_EXTENSIONS = frozenset({
    "wav", "w64", "flac", "mp3", "mp2", "m4a", "m4b", "aac", "ac3", "eac3", "dts", "ogg", "oga", "opus",
    "wma", "aif", "aiff", "caf", "amr", "wv", "ape", "mka", "alac", "tta",
})
TEXT_CODECS = frozenset({"subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text"})
MATROSKA_SUBTITLE_CODECS = frozenset({
    "subrip", "srt", "ass", "ssa", "webvtt", "hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "arib_caption",
})

# Subtitle files the subtitles stage writes, by format: ffmpeg demuxer and the codec it yields.
SOURCE_DEMUXER = {"srt": "srt", "vtt": "webvtt", "ass": "ass"}
SOURCE_CODEC = {"srt": "subrip", "vtt": "webvtt", "ass": "ass"}
# Track codec (ffprobe's name) -> ffmpeg encoder.
ENCODER = {"subrip": "srt", "ass": "ass", "webvtt": "webvtt", "mov_text": "mov_text"}
# Track codec -> source formats, best first (ASS to mov_text loses its styling: last).
PREFERENCE = {
    "mov_text": ("srt", "vtt", "ass"),
    "subrip": ("srt", "vtt", "ass"),
    "ass": ("ass", "srt", "vtt"),
    "webvtt": ("vtt", "srt", "ass"),
}

@dataclass(frozen=True)
class Container:
    name: str  # mp4, mov, matroska, webm, mka
    ext: str  # output extension, no dot
    muxer: str  # ffmpeg -f
    text_codec: str  # codec of the new subtitle tracks (ffprobe's name)
    subtitle_codecs: frozenset[str]  # existing subtitle codecs carried as they are
    attachments: bool = False
    audio_only: bool = False

    @property
    def is_matroska(self) -> bool:
        return self.muxer in ("matroska", "webm")

    @property
    def is_mp4_family(self) -> bool:
        return self.muxer in ("mp4", "mov")


def _matroska_codec(mkv_subtitle_format: str) -> str:
    return "ass" if mkv_subtitle_format == "ass" else "subrip"


def mp4(ext: str = "mp4") -> Container:
    return Container("mp4", ext, "mp4", "mov_text", frozenset({"mov_text", "dvd_subtitle"}))


def mov() -> Container:
    return Container("mov", "mov", "mov", "mov_text", frozenset({"mov_text"}))


def mkv(mkv_subtitle_format: str = "srt") -> Container:
    return Container("matroska", "mkv", "matroska", _matroska_codec(mkv_subtitle_format),
                     MATROSKA_SUBTITLE_CODECS, attachments=True)


def mka(mkv_subtitle_format: str = "srt") -> Container:
    return Container("mka", "mka", "matroska", _matroska_codec(mkv_subtitle_format),
                     MATROSKA_SUBTITLE_CODECS, attachments=True, audio_only=True)


def webm() -> Container:
    return Container("webm", "webm", "webm", "webvtt", frozenset({"webvtt"}))


def choose_container(info: MediaInfo, mkv_subtitle_format: str = "srt") -> tuple[Container, list[str]]:
    """The output container for the input described by ``info``, and notes for the user."""
    ext = Path(info.source_name).suffix.lower().lstrip(".")
    formats = set(info.container.split(","))
    has_video = any(s.kind == "video" for s in info.streams)
    if ext in AUDIO_EXTENSIONS or not has_video:
        return mka(mkv_subtitle_format), [
            f"{info.source_name} is audio only: wrote a Matroska audio file (.mka) with the subtitle tracks"]
    if formats & {"mov", "mp4"}:
        if ext in ("mp4", "m4v"):
            return mp4(ext), []
        if ext == "mov":
            return mov(), []
    if formats & {"matroska", "webm"}:
        return (webm(), []) if ext == "webm" else (mkv(mkv_subtitle_format), [])
    return mkv(mkv_subtitle_format), [
        f"{info.container or ext} cannot carry text subtitle tracks: wrote Matroska (.mkv) with the same streams"]


@dataclass(frozen=True)
class KeptStream:
    index: int  # stream index in the input
    kind: str
    codec: str
    encoder: str = ""  # "" = copied as it is


def plan_streams(info: MediaInfo, container: Container) -> tuple[list[KeptStream], list[str]]:
    """The input streams that go into the output, in input order, and notes on those left out."""
    kept: list[KeptStream] = []
    dropped: dict[str, list[str]] = {}
    converted: list[str] = []
    for s in info.streams:
        reason = ""
        encoder = ""
        if s.kind == "audio":
            pass
        elif s.kind == "video":
            if container.audio_only:
                reason = "picture/video (cover art)"
        elif s.kind == "subtitle":
            if s.codec not in container.subtitle_codecs:
                if s.codec in TEXT_CODECS:
                    encoder = ENCODER[container.text_codec]
                    converted.append(f"#{s.index} {s.codec}")
                else:
                    reason = f"subtitle ({s.codec})"
        elif s.kind == "attachment":
            if not container.attachments:
                reason = "attachment"
        elif s.kind == "data" and s.codec == "tmcd" and container.is_mp4_family:
            pass  # a QuickTime timecode track, which MP4/MOV carry as it is
        else:
            reason = f"{s.kind} ({s.codec or 'unknown'})"
        if reason:
            dropped.setdefault(reason, []).append(f"#{s.index}")
        else:
            kept.append(KeptStream(s.index, s.kind, s.codec, encoder))
    notes = [f"left out {what} stream(s) {', '.join(idx)}: {container.ext.upper()} cannot carry them"
             for what, idx in dropped.items()]
    if converted:
        notes.append(f"converted existing subtitle stream(s) {', '.join(converted)} to {container.text_codec}")
    if not any(k.kind in ("video", "audio") for k in kept):
        raise InputError(f"{info.source_name} has no video or audio stream to put subtitles on")
    return kept, notes


# Track kinds the subtitles stage writes, their title suffix and disposition (docs/TRACKS.md).
TITLE_SUFFIXES = {"translation": " (translation)", "forced": " (forced)", "sdh": " (SDH)"}
DISPOSITIONS = {"forced": "forced", "sdh": "hearing_impaired"}


@dataclass(frozen=True)
class NewTrack:
    path: Path  # the subtitle file
    source: str  # its path as the manifest lists it
    source_format: str  # srt, vtt, ass
    language: str  # as the manifest states it (ISO 639-1)
    tag: str  # ISO 639-2 for the container
    title: str
    kind: str  # transcript, translation, forced, sdh
    codec: str  # track codec (ffprobe's name)

    @property
    def disposition(self) -> str:
        """ffmpeg's ``-disposition`` value: forced for the forced track, hearing_impaired for SDH, else none."""
        return DISPOSITIONS.get(self.kind, "0")

    @property
    def encoder(self) -> str:
        """ffmpeg encoder, or copy when the file already is the track's codec."""
        return "copy" if SOURCE_CODEC[self.source_format] == self.codec else ENCODER[self.codec]

    @property
    def demuxer(self) -> str:
        return SOURCE_DEMUXER[self.source_format]

    def other_tag_form(self) -> NewTrack:
        """The same track tagged in the other ISO 639-2 form (``fre`` <-> ``fra``)."""
        other = TERMINOLOGIC.get(self.tag) or next((b for b, t in TERMINOLOGIC.items() if t == self.tag), self.tag)
        return dataclasses.replace(self, tag=other)


def _inside(folder: Path, relative: str) -> Path:
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise StageFailed(f"the subtitle manifest lists {relative!r}, outside its folder", "rerun the subtitles stage")
    if not path.is_file():
        raise StageFailed(f"the subtitle manifest lists {relative}, which is missing", "rerun the subtitles stage")
    return path


def choose_tracks(manifest: SubtitleManifest, subtitles_dir: Path, container: Container) -> tuple[list[NewTrack], list[str]]:
    """One track per (language, kind) in manifest order, from the best format for the container."""
    preference = PREFERENCE[container.text_codec]
    groups: dict[tuple[str, str], dict[str, str]] = {}
    for f in manifest.files:
        fmt = f.format.lower()
        if fmt in preference:
            groups.setdefault((f.language, f.kind), {}).setdefault(fmt, f.path)
    if not groups:
        listed = ", ".join(sorted({f.format for f in manifest.files})) or "none"
        raise InputError(f"the subtitles stage wrote no SRT, VTT or ASS file to mux (formats: {listed})",
                         "add srt to SUBTITLE_FORMATS and rerun the subtitles stage")
    tracks: list[NewTrack] = []
    notes: list[str] = []
    for (language, kind), by_format in groups.items():
        fmt = next(f for f in preference if f in by_format)
        if fmt != preference[0]:
            notes.append(f"no {preference[0].upper()} file for {language or 'und'}: converted the {fmt.upper()} "
                         f"file to {container.text_codec}")
        title = language_name(language) + TITLE_SUFFIXES.get(kind, "")
        tracks.append(NewTrack(_inside(subtitles_dir, by_format[fmt]), by_format[fmt], fmt, language,
                               to_iso639_2(language), title, kind, container.text_codec))
    return tracks, notes


def ffmpeg_args(media: Path, out: Path, container: Container, kept: list[KeptStream], tracks: list[NewTrack]) -> list[str]:
    """ffmpeg arguments (after the global ones): copy the kept streams, add the tracks."""
    args = ["-i", str(media.absolute())]
    for t in tracks:
        args += ["-f", t.demuxer, "-i", str(t.path.absolute())]
    for k in kept:
        args += ["-map", f"0:{k.index}"]
    for n in range(1, len(tracks) + 1):
        args += ["-map", f"{n}:0"]
    args += ["-c", "copy"]
    kept_subtitles = [k for k in kept if k.kind == "subtitle"]
    for n, k in enumerate(kept_subtitles):
        if k.encoder:
            args += [f"-c:s:{n}", k.encoder]
    for n, t in enumerate(tracks, start=len(kept_subtitles)):
        args += [f"-c:s:{n}", t.encoder,
                 f"-metadata:s:s:{n}", f"language={t.tag}",
                 f"-metadata:s:s:{n}", f"title={t.title}",
                 f"-disposition:s:{n}", t.disposition]
        if container.is_mp4_family:  # players show the handler name as the track's name
            args += [f"-metadata:s:s:{n}", f"handler_name={t.title}"]
    if container.is_matroska:  # do not switch the new subtitles on by default
        args += ["-default_mode", "infer_no_subs"]
    args += ["-max_muxing_queue_size", "4096", "-f", container.muxer, "-y", str(out.absolute())]
    return args
