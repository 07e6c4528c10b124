"""The speakers stage: final word times, and a speaker for every word.

Reads the transcript (post-ner's corrected one when that stage ran), the
audio, and, when they exist, the diarization and the job's metadata.json.

1. Word times: ``whisperx.align`` with the language's alignment model when
   it is in the model cache (or ``ALIGN_MODEL`` names one), else the ASR's
   own word times. ``timing.method`` in words.json, and the lock's model
   record, say which was used.
2. Speakers: each word is looked up in an interval index over the exclusive
   turns (:mod:`stages.speakers.assign`); names come from metadata.json's
   ``speakers`` map. Without diarization (skipped) words have no speaker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared import schema
from shared.devices import torch_device
from shared.log import get_logger
from shared.metadata import load_metadata
from shared.models import ResolvedModel
from shared.options.speakers import SpeakersOptions
from shared.progress import ProgressHook, no_progress
from shared.speakers import ASSIGNMENTS, NO_SPEAKER, Diarization, SpeakerSegment, SpeakerTranscript, SpeakerWord
from shared.stage import StageReport
from stages.speakers.assign import TurnIndex, display_names
from stages.speakers.models import cached_default_align_models, default_align_model, resolve_align_model

log = get_logger("stages.speakers")

STAGE = "speakers"


def model_identity(options: SpeakersOptions) -> dict[str, Any]:
    if options.align_model == "auto":
        return {"align_model": "auto", "cached": cached_default_align_models()}
    if options.align_model == "none":
        return {"align_model": "none"}
    resolved = resolve_align_model(options.align_model, "")
    return {"align_model": resolved.identity() if resolved else None}


def resolve_device(option: str) -> str:
    return torch_device(option, "ALIGN_DEVICE")


def word_times(transcript: schema.Transcript, audio: Path, options: SpeakersOptions,
               hook: ProgressHook = no_progress) -> tuple[list[list[tuple[float, float] | None]], dict[str, Any], ResolvedModel | None]:
    """Aligned (start, end) per word (None: keep the ASR's), the timing record, and the model used."""
    language = transcript.language
    resolved = resolve_align_model(options.align_model, language) if transcript.segments else None
    if resolved is None:
        if options.align_model == "none":
            reason = "ALIGN_MODEL=none"
        elif not transcript.segments:
            reason = "no words to align"
        else:
            wanted = default_align_model(language)
            reason = (f"no alignment model for language {language!r} in the model cache "
                      f"({wanted or 'whisperx has no default for it'})")
        return [[None] * len(s.words) for s in transcript.segments], {"method": "asr", "reason": reason}, None
    from stages.speakers.align import align_segments, load_model

    device = resolve_device(options.device)
    model, metadata = load_model(resolved, language, device)
    times, stats = align_segments(transcript.segments, audio, model, metadata, language, device, hook)
    return times, {"method": "whisperx-align", "model": resolved.identity(), "device": device, **stats.to_json()}, resolved


def attribute(transcript: schema.Transcript, times: list[list[tuple[float, float] | None]],
              diarization: Diarization | None, names: dict[str, str]) -> list[SpeakerSegment]:
    """The transcript's segments with final times and a speaker per word (pure)."""
    index = TurnIndex(diarization.exclusive, diarization.overlaps) if diarization is not None else None
    segments = []
    for seg, seg_times in zip(transcript.segments, times):
        words = []
        for word, aligned in zip(seg.words, seg_times):
            start, end = aligned if aligned is not None else (word.start_s, word.end_s)
            if index is not None:
                found = index.assign(start, end)
                speaker, how = found.speaker, found.how
            else:
                speaker, how = "", NO_SPEAKER
            words.append(SpeakerWord(start, end, word.text, word.probability, speaker, how))
        start = min((w.start_s for w in words), default=seg.start_s)
        end = max((w.end_s for w in words), default=seg.end_s)
        segments.append(SpeakerSegment(start, end, seg.text, tuple(words), seg.avg_logprob, seg.no_speech_prob))
    return segments


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: SpeakersOptions,
        hook: ProgressHook = no_progress) -> StageReport:
    transcript = schema.load(inputs["transcript"], schema.Transcript)
    diarization = schema.load(inputs["diarization"], Diarization) if "diarization" in inputs else None
    metadata_names = load_metadata(inputs["metadata"]).speakers if "metadata" in inputs else {}
    notes: list[str] = []

    times, timing, resolved = word_times(transcript, inputs["audio"], options, hook)
    if timing["method"] == "asr" and options.align_model != "none" and transcript.segments:
        notes.append(f"word times are the ASR's: {timing['reason']}; download one with make models")
    elif timing.get("segments_kept_asr_times"):
        notes.append(f"{timing['segments_kept_asr_times']} segment(s) kept their ASR word times (alignment did not match)")

    names = display_names(diarization.speakers, metadata_names) if diarization is not None else {}
    unknown = sorted(set(metadata_names) - set(names))
    if diarization is not None and unknown:
        notes.append(f"metadata.json names {', '.join(unknown)}, which diarization did not find "
                     f"(found: {', '.join(diarization.speakers) or 'none'})")
    if diarization is None:
        notes.append("diarization is switched off: words have no speaker")

    segments = attribute(transcript, times, diarization, names)
    turns = diarization.exclusive if diarization is not None else ()
    producer = schema.stamp(STAGE, options, transcript_from=transcript.producer.stage or "asr",
                            diarization=diarization.producer.model if diarization is not None else None)
    record = SpeakerTranscript(transcript.language, transcript.language_probability, transcript.audio_duration_s,
                               tuple(segments), names, timing, tuple(turns), producer)
    schema.write(outputs["speaker_words"], record)

    counts = {k: 0 for k in ASSIGNMENTS}
    for w in record.words:
        counts[w.assignment] += 1
    used = {w.speaker for w in record.words if w.speaker}
    log.info("%d words: timing %s; speakers %s; %s", len(record.words), timing["method"],
             ", ".join(f"{names[s]} ({s})" for s in sorted(used)) or "none",
             ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    return StageReport(
        model={"alignment": timing["method"], **({"align_model": resolved.identity()} if resolved else {})},
        metrics={"words": len(record.words), "timing": timing["method"], "assignments": counts,
                 "speakers": len(names), "speakers_with_words": len(used),
                 "named_from_metadata": sum(1 for s in names if metadata_names.get(s))},
        notes=notes,
    )
