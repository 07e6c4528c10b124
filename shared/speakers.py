"""Typed contents of the speaker artifacts: who speaks when, and who says which word.

``diarization/speakers.json`` (:class:`Diarization`): speaker turns as the
pipeline found them (they may overlap), the regions where two or more
speakers talk at once, and the exclusive view (one speaker at a time, no
overlap) that words are assigned from. ``diarization/speakers.rttm`` and
``diarization/exclusive.rttm`` hold the same turns in RTTM.

``speakers/words.json`` (:class:`SpeakerTranscript`): the transcript's words
with their final times (whisperx alignment or the ASR's own), each with a
speaker label and how it was assigned, the display names of the speakers,
and the exclusive turns with those names.

Times are seconds, rounded to milliseconds when written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.schema import SCHEMA_VERSION, Producer, Segment, Stamped, Transcript, Word

# How a word got its speaker.
INSIDE = "turn"  # within one speaker's turn
OVERLAP = "overlap"  # two or more speakers talk during the word: the most-overlapping turn
GAP = "gap"  # no turn covers the word: the nearest turn
NO_SPEAKER = "none"  # no diarization, or no turn at all
ASSIGNMENTS = (INSIDE, OVERLAP, GAP, NO_SPEAKER)


def _ms(value: float) -> float:
    return round(float(value), 3)


@dataclass(frozen=True)
class Turn:
    start_s: float
    end_s: float
    speaker: str

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_json(self) -> dict[str, Any]:
        return {"start_s": _ms(self.start_s), "end_s": _ms(self.end_s), "speaker": self.speaker}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Turn:
        return cls(float(data["start_s"]), float(data["end_s"]), str(data["speaker"]))


@dataclass(frozen=True)
class Diarization(Stamped):
    speakers: tuple[str, ...]  # labels, in order of first appearance
    turns: tuple[Turn, ...]  # sorted by start; turns of different speakers may overlap
    exclusive: tuple[Turn, ...]  # sorted, never overlapping: one speaker at a time
    overlaps: tuple[tuple[float, float], ...]  # sorted regions where two or more speakers talk
    audio_duration_s: float
    producer: Producer = field(default_factory=Producer)

    @property
    def speech_duration_s(self) -> float:
        return sum(t.duration_s for t in self.exclusive)

    @property
    def overlap_duration_s(self) -> float:
        return sum(b - a for a, b in self.overlaps)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "audio_duration_s": _ms(self.audio_duration_s),
            "speakers": list(self.speakers),
            "speaker_count": len(self.speakers),
            "speech_duration_s": _ms(self.speech_duration_s),
            "overlap_duration_s": _ms(self.overlap_duration_s),
            "turns": [t.to_json() for t in self.turns],
            "exclusive": [t.to_json() for t in self.exclusive],
            "overlaps": [{"start_s": _ms(a), "end_s": _ms(b)} for a, b in self.overlaps],
            "producer": self.producer.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diarization:
        return cls(
            speakers=tuple(data["speakers"]),
            turns=tuple(Turn.from_json(t) for t in data["turns"]),
            exclusive=tuple(Turn.from_json(t) for t in data["exclusive"]),
            overlaps=tuple((float(o["start_s"]), float(o["end_s"])) for o in data["overlaps"]),
            audio_duration_s=float(data["audio_duration_s"]),
            producer=data.get("producer", {}),
        )


# --- RTTM ------------------------------------------------------------------------------------

_RTTM_UNSAFE = re.compile(r"\s+")


def rttm_name(text: str) -> str:
    """A speaker name or file id as one RTTM field (no whitespace)."""
    return _RTTM_UNSAFE.sub("_", text.strip()) or "unknown"


def to_rttm(turns: Iterable[Turn], uri: str, names: dict[str, str] | None = None) -> str:
    """RTTM lines (``SPEAKER uri 1 start duration <NA> <NA> name <NA> <NA>``), one per turn."""
    names = names or {}
    lines = [f"SPEAKER {rttm_name(uri)} 1 {t.start_s:.3f} {t.duration_s:.3f} <NA> <NA> "
             f"{rttm_name(names.get(t.speaker, t.speaker))} <NA> <NA>" for t in turns]
    return "".join(line + "\n" for line in lines)


def parse_rttm(text: str) -> dict[str, list[Turn]]:
    """Turns by file id from RTTM text (SPEAKER lines; others ignored)."""
    found: dict[str, list[Turn]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0] != "SPEAKER":
            continue
        if len(parts) < 8:
            raise ValueError(f"RTTM line {number}: expected at least 8 fields, got {len(parts)}")
        start, duration = float(parts[3]), float(parts[4])
        found.setdefault(parts[1], []).append(Turn(start, start + duration, parts[7]))
    for turns in found.values():
        turns.sort(key=lambda t: (t.start_s, t.end_s, t.speaker))
    return found


# --- speaker-attributed words ----------------------------------------------------------------


@dataclass(frozen=True)
class SpeakerWord:
    start_s: float
    end_s: float
    text: str  # as Whisper wrote it, leading space included
    probability: float = 1.0
    speaker: str = ""  # diarization label; "" when there is none
    assignment: str = NO_SPEAKER  # one of ASSIGNMENTS

    def to_json(self) -> dict[str, Any]:
        return {"start_s": _ms(self.start_s), "end_s": _ms(self.end_s), "text": self.text,
                "probability": round(self.probability, 4), "speaker": self.speaker, "assignment": self.assignment}


@dataclass(frozen=True)
class SpeakerSegment:
    start_s: float
    end_s: float
    text: str
    words: tuple[SpeakerWord, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"start_s": _ms(self.start_s), "end_s": _ms(self.end_s), "text": self.text,
                "avg_logprob": round(self.avg_logprob, 4), "no_speech_prob": round(self.no_speech_prob, 4),
                "words": [w.to_json() for w in self.words]}


@dataclass(frozen=True)
class SpeakerTranscript(Stamped):
    language: str
    language_probability: float
    audio_duration_s: float
    segments: tuple[SpeakerSegment, ...]
    names: dict[str, str]  # label -> name shown (metadata.json's speakers, else the label)
    timing: dict[str, Any]  # how word times were made: {"method": "whisperx-align" | "asr", ...}
    turns: tuple[Turn, ...] = ()  # the exclusive turns words were assigned from
    producer: Producer = field(default_factory=Producer)

    @property
    def words(self) -> list[SpeakerWord]:
        return [w for s in self.segments for w in s.words]

    def name(self, speaker: str) -> str:
        return self.names.get(speaker, speaker) if speaker else ""

    def to_transcript(self) -> Transcript:
        """The same words and times as a plain transcript (speakers dropped)."""
        return Transcript(
            self.language, self.language_probability, self.audio_duration_s,
            tuple(Segment(s.start_s, s.end_s, s.text, tuple(Word(w.start_s, w.end_s, w.text, w.probability)
                                                            for w in s.words), s.avg_logprob, s.no_speech_prob)
                  for s in self.segments),
            self.producer,
        )

    def to_json(self) -> dict[str, Any]:
        words = self.words
        counts: dict[str, int] = {}
        for w in words:
            counts[w.assignment] = counts.get(w.assignment, 0) + 1
        return {
            "schema": SCHEMA_VERSION,
            "language": self.language,
            "language_probability": round(self.language_probability, 4),
            "audio_duration_s": _ms(self.audio_duration_s),
            "timing": self.timing,
            "names": dict(self.names),
            "assignments": {k: counts.get(k, 0) for k in ASSIGNMENTS},
            "turns": [t.to_json() for t in self.turns],
            "segments": [s.to_json() for s in self.segments],
            "producer": self.producer.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SpeakerTranscript:
        return cls(
            language=data["language"],
            language_probability=float(data.get("language_probability", 0.0)),
            audio_duration_s=float(data["audio_duration_s"]),
            segments=tuple(
                SpeakerSegment(float(s["start_s"]), float(s["end_s"]), s["text"],
                               tuple(SpeakerWord(float(w["start_s"]), float(w["end_s"]), w["text"],
                                                 float(w.get("probability", 1.0)), w.get("speaker", ""),
                                                 w.get("assignment", NO_SPEAKER)) for w in s["words"]),
                               float(s.get("avg_logprob", 0.0)), float(s.get("no_speech_prob", 0.0)))
                for s in data["segments"]),
            names=dict(data.get("names", {})),
            timing=dict(data.get("timing", {})),
            turns=tuple(Turn.from_json(t) for t in data.get("turns", [])),
            producer=data.get("producer", {}),
        )


def speaker_order(turns: Sequence[Turn]) -> tuple[str, ...]:
    """Speaker labels in order of first appearance."""
    return tuple(dict.fromkeys(t.speaker for t in sorted(turns, key=lambda t: (t.start_s, t.end_s))))
