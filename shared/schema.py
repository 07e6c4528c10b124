"""Typed contents of the artifact files. Times are seconds (``*_s``), rounded
to milliseconds when written; every record says how it was made
(``producer``: stage, model, options)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shared.fsio import atomic_write_json, read_json

SCHEMA_VERSION = 1


def _ms(value: float) -> float:
    return round(float(value), 3)


@dataclass(frozen=True)
class StreamInfo:
    index: int  # ffprobe stream index in the container
    kind: str  # audio, video, subtitle, data
    codec: str
    language: str = ""  # ISO 639 as tagged in the container, "" when untagged
    channels: int = 0
    sample_rate_hz: int = 0
    title: str = ""
    default: bool = False


@dataclass(frozen=True)
class MediaInfo:
    source_name: str  # file name of the input, used to name outputs
    container: str  # ffprobe format name
    duration_s: float
    streams: tuple[StreamInfo, ...]
    audio_stream_index: int  # the stream demux extracted
    audio_language: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration_s"] = _ms(self.duration_s)
        return {"schema": SCHEMA_VERSION, **data}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "MediaInfo":
        data = {k: v for k, v in data.items() if k != "schema"}
        data["streams"] = tuple(StreamInfo(**s) for s in data["streams"])
        return cls(**data)

    @property
    def stem(self) -> str:
        return Path(self.source_name).stem


@dataclass(frozen=True)
class Region:
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class SpeechRegions:
    regions: tuple[Region, ...]
    audio_duration_s: float
    producer: dict[str, Any] = field(default_factory=dict)

    @property
    def speech_duration_s(self) -> float:
        return sum(r.duration_s for r in self.regions)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "audio_duration_s": _ms(self.audio_duration_s),
            "speech_duration_s": _ms(self.speech_duration_s),
            "regions": [{"start_s": _ms(r.start_s), "end_s": _ms(r.end_s)} for r in self.regions],
            "producer": self.producer,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SpeechRegions":
        return cls(
            regions=tuple(Region(r["start_s"], r["end_s"]) for r in data["regions"]),
            audio_duration_s=data["audio_duration_s"],
            producer=data.get("producer", {}),
        )


@dataclass(frozen=True)
class Word:
    start_s: float
    end_s: float
    text: str  # as Whisper wrote it, leading space included
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0


@dataclass(frozen=True)
class Transcript:
    language: str
    language_probability: float
    audio_duration_s: float
    segments: tuple[Segment, ...]
    producer: dict[str, Any] = field(default_factory=dict)

    @property
    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "language": self.language,
            "language_probability": round(self.language_probability, 4),
            "audio_duration_s": _ms(self.audio_duration_s),
            "segments": [
                {
                    "start_s": _ms(s.start_s),
                    "end_s": _ms(s.end_s),
                    "text": s.text,
                    "avg_logprob": round(s.avg_logprob, 4),
                    "no_speech_prob": round(s.no_speech_prob, 4),
                    "words": [
                        {"start_s": _ms(w.start_s), "end_s": _ms(w.end_s), "text": w.text, "probability": round(w.probability, 4)}
                        for w in s.words
                    ],
                }
                for s in self.segments
            ],
            "producer": self.producer,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Transcript":
        return cls(
            language=data["language"],
            language_probability=data["language_probability"],
            audio_duration_s=data["audio_duration_s"],
            segments=tuple(
                Segment(
                    start_s=s["start_s"],
                    end_s=s["end_s"],
                    text=s["text"],
                    words=tuple(Word(**w) for w in s["words"]),
                    avg_logprob=s.get("avg_logprob", 0.0),
                    no_speech_prob=s.get("no_speech_prob", 0.0),
                )
                for s in data["segments"]
            ),
            producer=data.get("producer", {}),
        )


@dataclass(frozen=True)
class SubtitleFile:
    path: str  # relative to the subtitles stage folder
    language: str
    format: str  # srt, vtt, ass, json, txt, tsv
    kind: str = "transcript"  # transcript, or translation later


@dataclass(frozen=True)
class SubtitleManifest:
    files: tuple[SubtitleFile, ...]
    cue_count: int
    producer: dict[str, Any] = field(default_factory=dict)

    def for_format(self, fmt: str) -> list[SubtitleFile]:
        return [f for f in self.files if f.format == fmt]

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "files": [asdict(f) for f in self.files], "cue_count": self.cue_count, "producer": self.producer}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SubtitleManifest":
        return cls(tuple(SubtitleFile(**f) for f in data["files"]), data["cue_count"], data.get("producer", {}))


@dataclass(frozen=True)
class MuxManifest:
    path: str  # relative to the mux stage folder
    tracks: tuple[dict[str, Any], ...]  # {"language", "format", "codec"}

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "path": self.path, "tracks": list(self.tracks)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "MuxManifest":
        return cls(data["path"], tuple(data["tracks"]))


@dataclass(frozen=True)
class TranslatedSegment:
    """One transcript segment and its translation: the segment's times, its source text kept."""

    start_s: float
    end_s: float
    source_text: str
    text: str  # the translation; "" only when the source has no text
    source_language: str
    method: str  # translated, source (already in the target language), empty (no source text)
    terms: tuple[dict[str, Any], ...] = ()  # protected names and terms: {"term", "kept", "how"}
    score: float | None = None  # mean log-probability per token of ``text`` under the model, when known
    info: dict[str, Any] = field(default_factory=dict)  # backend details; second pass: the pass kept and why


@dataclass(frozen=True)
class Translation:
    """All segments translated into one language (``translation/<lang>.json``)."""

    language: str  # target, ISO 639-1
    segments: tuple[TranslatedSegment, ...]
    producer: dict[str, Any] = field(default_factory=dict)  # stage, backend, model, the model's language codes

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def to_json(self) -> dict[str, Any]:
        segments = []
        for s in self.segments:
            item = asdict(s)
            item.update(start_s=_ms(s.start_s), end_s=_ms(s.end_s), terms=list(s.terms),
                        score=None if s.score is None else round(float(s.score), 4))
            segments.append(item)
        return {"schema": SCHEMA_VERSION, "language": self.language, "segments": segments, "producer": self.producer}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Translation":
        return cls(data["language"], tuple(TranslatedSegment(**{**s, "terms": tuple(s.get("terms", ()))})
                                           for s in data["segments"]), data.get("producer", {}))


@dataclass(frozen=True)
class TranslationFile:
    language: str
    path: str  # relative to the manifest's folder
    backend: str  # whisper, transformers, source
    segments: int


@dataclass(frozen=True)
class TranslationManifest:
    """The translations a stage made, one file per target language; none when no targets were asked for."""

    files: tuple[TranslationFile, ...]
    producer: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "files": [asdict(f) for f in self.files], "producer": self.producer}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TranslationManifest":
        return cls(tuple(TranslationFile(**f) for f in data["files"]), data.get("producer", {}))


@dataclass(frozen=True)
class LyricRegion:
    start_s: float
    end_s: float
    confidence: float  # 0-1
    audio_score: float  # 0-1, from the sound alone
    text_score: float | None = None  # 0-1, from the transcript's lines there; None without them


@dataclass(frozen=True)
class LyricRegions:
    """Song (music with singing) regions (``lyrics-detection/lyrics.json``)."""

    regions: tuple[LyricRegion, ...]
    audio_duration_s: float
    producer: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "audio_duration_s": _ms(self.audio_duration_s),
            "lyrics_duration_s": _ms(sum(r.end_s - r.start_s for r in self.regions)),
            "regions": [{"start_s": _ms(r.start_s), "end_s": _ms(r.end_s), "confidence": round(r.confidence, 3),
                         "audio_score": round(r.audio_score, 3),
                         "text_score": None if r.text_score is None else round(r.text_score, 3)} for r in self.regions],
            "producer": self.producer,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "LyricRegions":
        return cls(tuple(LyricRegion(**r) for r in data["regions"]), data["audio_duration_s"], data.get("producer", {}))


def write(path: Path, record: Any) -> None:
    atomic_write_json(path, record.to_json())


def load(path: Path, cls: type):
    return cls.from_json(read_json(path))
