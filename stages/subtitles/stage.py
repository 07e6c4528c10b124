"""The subtitles stage: transcript words -> cues -> subtitle files, manifest, QC report.

Files are named ``<media stem>.<language>.<format>`` (the stem shortened when
that is too long for a file name; the full name is kept in the manifest) and written beside
manifest.json; qc.json lists every cue that still breaks a rule of the
profile after layout and timing, and qc.csv (in the manifest, kind ``qc``)
lists the same for reviewers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pysubs2

from shared import schema
from shared.errors import InputError
from shared.filenames import fitted, full_name
from shared.fsio import atomic_write_json, atomic_write_text
from shared.log import get_logger
from shared.options.subtitles import SubtitleOptions
from shared.progress import ProgressHook, no_progress
from shared.stage import StageReport
from stages.subtitles import extra_tracks, qc, shots, speakers, tracks
from stages.subtitles.cues import to_ms, words_from_transcript
from stages.subtitles.writers import FORMATS, WRITERS

log = get_logger("stages.subtitles")

QC_CSV = "qc.csv"  # qc.json for reviewers: Subtitle Edit's Netflix check report layout (stages/subtitles/qc.py)
NO_SPEECH_NOTE = "no speech: subtitle files are empty"


def model_identity(options: SubtitleOptions) -> dict[str, Any]:
    return {}


def check_options(options: SubtitleOptions) -> tuple[str, ...]:
    """The formats to write, in order, without repeats; InputError for anything unusable."""
    formats = tuple(dict.fromkeys(f.strip().lower() for f in options.formats))
    unknown = [f for f in formats if f not in WRITERS]
    if unknown:
        raise InputError(f"unknown subtitle format(s) {', '.join(unknown)}; valid formats: {', '.join(FORMATS)}",
                         "set SUBTITLE_FORMATS to a comma-separated list of those")
    if not formats:
        raise InputError(f"no subtitle formats asked for; valid formats: {', '.join(FORMATS)}")
    problems = []
    if options.max_chars_per_line < 1:
        problems.append("max_chars_per_line must be at least 1")
    if options.max_lines < 1:
        problems.append("max_lines must be at least 1")
    if options.target_chars_per_s <= 0 or options.max_chars_per_s <= 0:
        problems.append("target_chars_per_s and max_chars_per_s must be above 0")
    if min(options.min_duration_ms, options.min_gap_ms, options.pause_break_ms) < 0:
        problems.append("min_duration_ms, min_gap_ms and pause_break_ms cannot be negative")
    if options.max_duration_ms < max(1, options.min_duration_ms):
        problems.append("max_duration_ms must be above 0 and at least min_duration_ms")
    if problems:
        raise InputError("subtitle profile: " + "; ".join(problems))
    return formats


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: SubtitleOptions,
        hook: ProgressHook = no_progress) -> StageReport:
    formats = check_options(options)
    grid = shots.load(inputs, options)  # the video's frame rate and cuts, when the shots stage ran on one
    options = shots.frame_options(options, grid)
    transcript = schema.load(inputs["transcript"], schema.Transcript)  # post-ner's when it ran (graph refinement)
    speaker_record = speakers.load(inputs)  # the speakers stage's words (final times, speakers) when it ran
    names = None
    if speaker_record is not None:
        transcript, names = speakers.transcript_and_names(speaker_record)
    media = schema.load(inputs["media_info"], schema.MediaInfo)
    language = (transcript.language or "und").strip() or "und"
    words, dropped = words_from_transcript(transcript, names)
    duration_s = media.duration_s or transcript.audio_duration_s
    end_limit_ms = to_ms(duration_s) if duration_s and duration_s > 0 else None

    songs = tracks.load_lyrics(inputs, options)
    translations = tracks.load_translations(inputs)
    cues = tracks.make_cues(words, options, end_limit_ms, songs, hook, language, grid)
    violations = qc.check(cues, options, grid)
    folder = outputs["subtitles"].parent
    files = []
    # the original language, then one track per translation (stages/subtitles/tracks.py)
    written = [(language, "transcript", cues)] if tracks.write_original(translations, options) else []
    written += [(t.language, "translation",
                 tracks.make_cues(tracks.translated_words(t), options, end_limit_ms, songs, hook, t.language, grid))
                for t in translations]
    # the forced track (foreign passages) and the SDH track (stages/subtitles/extra_tracks.py)
    written += extra_tracks.forced_track(extra_tracks.load_forced(inputs), options, end_limit_ms, songs, hook, grid)
    written += extra_tracks.sdh_track(words, language, options, end_limit_ms, extra_tracks.load_music(inputs), hook, grid)
    for track_language, kind, track_cues in written:
        for k, fmt in enumerate(formats):
            hook("writing", k, len(formats))
            clash = kind == "translation" and track_language == language and written[0][1] == "transcript"
            label = f"{track_language}.translation" if clash else extra_tracks.file_label(track_language, kind)
            suffix = f".{label}.{fmt}"
            name = fitted(media.stem, suffix)
            atomic_write_text(folder / name, WRITERS[fmt](track_cues, track_language, media.stem))
            files.append(schema.SubtitleFile(path=name, language=track_language, format=fmt, kind=kind,
                                             full_name=full_name(media.stem, suffix, name)))
    hook("writing", len(formats), len(formats))
    if speaker_record is not None and speaker_record.turns:  # who speaks when, with the names shown
        rttm = fitted(media.stem, ".rttm")
        atomic_write_text(folder / rttm, speakers.rttm_text(speaker_record, media.stem))
        files.append(schema.SubtitleFile(path=rttm, language=language, format="rttm", kind="speakers",
                                         full_name=full_name(media.stem, ".rttm", rttm)))

    files.append(schema.SubtitleFile(path=QC_CSV, language=language, format="csv", kind="qc"))  # written below
    producer = schema.stamp("subtitles", options, engine=f"pysubs2 {pysubs2.__version__}",
                            translations=[t.language for t in translations], song_regions=len(songs),
                            tracks=[{"language": lang, "kind": kind, "cues": len(c)} for lang, kind, c in written],
                            frame_rate=str(grid.rate) if grid else None, shot_changes=len(grid.cuts) if grid else None)
    schema.write(outputs["subtitles"], schema.SubtitleManifest(tuple(files), len(written[0][2]) if written else 0, producer))
    record = qc.report(cues, violations, options)
    if len(written) > 1 or translations:  # the top level is the original language's layout; each written track besides
        record["tracks"] = [{"language": lang, "kind": kind, **qc.report(c, qc.check(c, options, grid), options)}
                            for lang, kind, c in written]
    atomic_write_json(outputs["qc_report"], record)
    atomic_write_text(folder / QC_CSV, qc.csv_report(record))

    notes = []
    if not cues:
        notes.append(NO_SPEECH_NOTE)
    elif violations:
        bad = len({v.cue for v in violations})
        notes.append(f"{bad} of {len(cues)} cues break a layout rule ({len(violations)} violations): see qc.json")
    for track in record.get("tracks", []):
        if track["kind"] == "translation" and track["cues_with_violations"]:
            notes.append(f"{track['language']}: {track['cues_with_violations']} of {track['cue_count']} translated cues "
                         f"break a layout rule: see qc.json, tracks")
    log.info("%d words -> %d cues, %d QC violations, formats %s", len(words), len(cues), len(violations), ",".join(formats))
    return StageReport(
        model={},
        metrics={
            "cues": len(cues),
            "qc_violations": len(violations),
            "cues_with_violations": len({v.cue for v in violations}),
            "words": len(words),
            "empty_words_dropped": dropped,
            "language": language,
            "formats": list(formats),
            "translations": [t.language for t in translations],
            "forced_cues": sum(len(c) for _, kind, c in written if kind == extra_tracks.FORCED),
            "sdh_cues": sum(len(c) for _, kind, c in written if kind == extra_tracks.SDH),
            "lyric_cues": sum(1 for _, _, c in written for cue in c if cue.lyric),
            "speakers": len({w.speaker for w in words if w.speaker}),
        },
        notes=notes,
    )
