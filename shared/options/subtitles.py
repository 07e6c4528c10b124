"""Options of the subtitles stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class SubtitleOptions:
    """Subtitle files and cue layout. Defaults are a Netflix-like profile:
    42 characters a line, 2 lines, 17 characters/second target and 20 hard
    cap, cues 0.833-7 s long, at least 83 ms (2 frames at 24 fps) apart; a cue
    over the cap may start up to 0.5 s before its speech to be readable. With a
    video's shot changes, cue edges fewer than 12 frames from a cut snap to it (a start
    on the cut, an end 2 frames before it)."""

    formats: tuple[str, ...] = setting(("srt", "vtt", "ass", "json", "txt", "tsv"), "SUBTITLE_FORMATS", "comma-separated: srt, vtt, ass, json, txt, tsv")
    max_chars_per_line: int = setting(42, "SUBTITLE_MAX_CHARS_PER_LINE", "characters per line")
    max_lines: int = setting(2, "SUBTITLE_MAX_LINES", "lines per cue")
    target_chars_per_s: float = setting(17.0, "SUBTITLE_TARGET_CHARS_PER_S", "reading speed cues are laid out for")
    max_chars_per_s: float = setting(20.0, "SUBTITLE_MAX_CHARS_PER_S", "reading speed above which a cue is reported")
    min_duration_ms: int = setting(833, "SUBTITLE_MIN_DURATION_MS", "shortest cue")
    max_duration_ms: int = setting(7000, "SUBTITLE_MAX_DURATION_MS", "longest cue")
    min_gap_ms: int = setting(83, "SUBTITLE_MIN_GAP_MS", "shortest gap between two cues")
    max_lead_in_ms: int = setting(500, "SUBTITLE_MAX_LEAD_IN_MS", "a cue over the reading-speed cap may start this long before its speech, into the silence before it")
    shot_snap_frames: int = setting(12, "SUBTITLE_SHOT_SNAP_FRAMES", "with shot changes (stage shots): a cue starting fewer than this many frames from a cut starts on it, one ending that close ends shot_end_gap_frames before it")
    shot_end_gap_frames: int = setting(2, "SUBTITLE_SHOT_END_GAP_FRAMES", "a cue ending at a cut ends this many frames before it")
    resplit: bool = setting(True, "SUBTITLE_RESPLIT", "a cue still over the reading-speed cap hands words to a neighbouring cue, or is split in two, where that brings it under the cap and breaks no other rule")
    pause_break_ms: int = setting(500, "SUBTITLE_PAUSE_BREAK_MS", "a pause this long between words ends a cue")
    keep_original: bool = setting(False, "SUBTITLE_KEEP_ORIGINAL", "with translations, also write (and mux) the original-language subtitles")
    mark_lyrics: bool = setting(True, "SUBTITLE_MARK_LYRICS", "mark cues in song regions: italics in ASS and VTT, ♪ in SRT")
    sdh: bool = setting(False, "SUBTITLE_SDH", "also write (and mux) an SDH track, <name>.<lang>.sdh.<fmt>: speaker names, ♪ song lines, music cues (docs/TRACKS.md)")
    sdh_tags: str = setting("", "SUBTITLE_SDH_TAGS", "SDH tag words over the language's own, e.g. music=[MUSIK]; empty = the table in docs/TRACKS.md ([MUSIC] in English)")
    sdh_min_music_ms: int = setting(2000, "SUBTITLE_SDH_MIN_MUSIC_MS", "music without dialogue at least this long gets a music cue in the SDH track")
    speaker_style: str = setting("label", "SUBTITLE_SPEAKER_STYLE", "with speakers: label ([Name] where the speaker changes; a new cue at every change), dash (two speakers may share a cue, one dashed line each) or none", ("label", "dash", "none"))
