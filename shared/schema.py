"""Typed contents of the artifact files. Times are seconds (``*_s``), rounded
to milliseconds when written; every record says how it was made (its
``producer``, a :class:`Producer` stamped by :func:`stamp`: stage, options,
model, and the stage's own details)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shared.fsio import atomic_write_json, read_json
from shared.options import to_dict

SCHEMA_VERSION = 1


def _ms(value: float) -> float:
    return round(float(value), 3)


# --- how a record was made ---------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageCodes:
    """How a seq2seq MT model is told a language pair: recorded by the translation stage,
    reused by the second pass."""

    family: str = ""  # nllb, m2m100, mbart50, marian, generic
    source: str = ""  # the source language as the model spells it ("" when the model does not take one)
    target: str = ""
    source_prefix: str = ""  # put before every source text (">>spa<< " for multi-target opus-mt)
    forced_bos_token_id: int | None = None  # first decoder token (the target language), or None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LanguageCodes:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Producer:
    """How a record was made (its ``producer``). Stages make one with :func:`stamp`.

    Typed: what every stage may record (its name, its resolved options, its model's
    identity) and what the second pass reads back from a translation (the backend,
    the model's language codes per source language, the decoder's start token).
    ``details`` holds each stage's own facts (asr's prompt record, counts, which
    stage an input came from), written beside the fields; in JSON it is all one
    object, and keys a reader does not know stay in ``details``, so older files load."""

    stage: str = ""
    options: dict[str, Any] | None = None
    model: dict[str, Any] | None = None  # identity: name, path, source, revision, device, ...
    backend: str = ""  # where a stage has several (translation: whisper, transformers)
    codes: dict[str, LanguageCodes] = field(default_factory=dict)  # by source language (transformers)
    decoder_start_token_id: int | None = None  # the MT model's (transformers)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def model_path(self) -> str:
        """The folder the recorded model was loaded from ("" when none is recorded)."""
        return str((self.model or {}).get("path") or "")

    @property
    def model_name(self) -> str:
        """The name the recorded model was asked for ("" when none is recorded)."""
        return str((self.model or {}).get("name") or "")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"stage": self.stage} if self.stage else {}
        if self.model is not None:
            data["model"] = self.model
        if self.options is not None:
            data["options"] = self.options
        if self.backend:
            data["backend"] = self.backend
        if self.codes:
            data["codes"] = {language: codes.to_json() for language, codes in self.codes.items()}
        if self.decoder_start_token_id is not None:
            data["decoder_start_token_id"] = self.decoder_start_token_id
        return {**self.details, **data}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Producer:
        rest = dict(data or {})
        codes = rest.pop("codes", None) or {}
        return cls(stage=str(rest.pop("stage", "") or ""), options=rest.pop("options", None),
                   model=rest.pop("model", None), backend=str(rest.pop("backend", "") or ""),
                   codes={language: LanguageCodes.from_json(c) for language, c in codes.items()},
                   decoder_start_token_id=rest.pop("decoder_start_token_id", None), details=rest)


def stamp(stage: str, options: Any = None, model: dict[str, Any] | None = None, *, backend: str = "",
          codes: dict[str, LanguageCodes] | None = None, decoder_start_token_id: int | None = None,
          **details: Any) -> Producer:
    """A record's producer, made the one way: the stage's name, its resolved options (an options
    dataclass, made JSON-ready here), its model's identity, and its own ``details`` (a Producer
    among them, e.g. the one of the record it refines, is kept as its JSON)."""
    if options is not None and not isinstance(options, dict):
        options = to_dict(options)
    details = {k: v.to_json() if isinstance(v, Producer) else v for k, v in details.items()}
    return Producer(stage, options, model, backend, dict(codes or {}), decoder_start_token_id, details)


class Stamped:
    """Base of the records with a ``producer``: a dict given for it (a test's, an old file's)
    becomes a :class:`Producer` once, at construction."""

    producer: Producer  # each record declares it as a field

    def __post_init__(self) -> None:
        if not isinstance(self.producer, Producer):
            object.__setattr__(self, "producer", Producer.from_json(self.producer))


# --- records -----------------------------------------------------------------------------------


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
    def from_json(cls, data: dict[str, Any]) -> MediaInfo:
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
class SpeechRegions(Stamped):
    regions: tuple[Region, ...]
    audio_duration_s: float
    producer: Producer = field(default_factory=Producer)

    @property
    def speech_duration_s(self) -> float:
        return sum(r.duration_s for r in self.regions)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "audio_duration_s": _ms(self.audio_duration_s),
            "speech_duration_s": _ms(self.speech_duration_s),
            "regions": [{"start_s": _ms(r.start_s), "end_s": _ms(r.end_s)} for r in self.regions],
            "producer": self.producer.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SpeechRegions:
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
    language: str = ""  # the segment's own language (ISO 639-1) when the asr stage identified it, else ""
    language_probability: float = 0.0  # how sure that identification is (0-1)


@dataclass(frozen=True)
class Removed:
    """Text the asr stage took out of the transcript as invented (stages/asr/hallucinations.py), and why."""

    text: str
    start_s: float
    end_s: float
    reason: str  # outside_speech, no_speech, compression_ratio, repetition, phantom_phrase
    detail: str = ""  # the figures that decided it, e.g. "no_speech_prob 0.81, avg_logprob -1.20"


@dataclass(frozen=True)
class Transcript(Stamped):
    language: str
    language_probability: float
    audio_duration_s: float
    segments: tuple[Segment, ...]
    producer: Producer = field(default_factory=Producer)
    removed: tuple[Removed, ...] = ()  # every hallucination taken out, with its reason

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
                    **({"language": s.language, "language_probability": round(s.language_probability, 4)}
                       if s.language else {}),
                    "words": [
                        {"start_s": _ms(w.start_s), "end_s": _ms(w.end_s), "text": w.text, "probability": round(w.probability, 4)}
                        for w in s.words
                    ],
                }
                for s in self.segments
            ],
            "removed": [{"text": r.text, "start_s": _ms(r.start_s), "end_s": _ms(r.end_s), "reason": r.reason, "detail": r.detail}
                        for r in self.removed],
            "producer": self.producer.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transcript:
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
                    language=s.get("language", ""),
                    language_probability=s.get("language_probability", 0.0),
                )
                for s in data["segments"]
            ),
            producer=data.get("producer", {}),
            removed=tuple(Removed(**r) for r in data.get("removed", ())),
        )


@dataclass(frozen=True)
class SubtitleFile:
    path: str  # relative to the subtitles stage folder
    language: str
    format: str  # srt, vtt, ass, json, txt, tsv
    kind: str = "transcript"  # transcript, translation, forced (foreign passages only), sdh; rttm: speakers; csv: qc
    full_name: str = ""  # the name before it was shortened to fit the file system (shared/filenames.py); "" if not


@dataclass(frozen=True)
class SubtitleManifest(Stamped):
    files: tuple[SubtitleFile, ...]
    cue_count: int
    producer: Producer = field(default_factory=Producer)

    def for_format(self, fmt: str) -> list[SubtitleFile]:
        return [f for f in self.files if f.format == fmt]

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "files": [asdict(f) for f in self.files], "cue_count": self.cue_count, "producer": self.producer.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubtitleManifest:
        return cls(tuple(SubtitleFile(**f) for f in data["files"]), data["cue_count"], data.get("producer", {}))


@dataclass(frozen=True)
class MuxManifest:
    path: str  # relative to the mux stage folder
    tracks: tuple[dict[str, Any], ...]  # {"language", "format", "codec"}
    full_name: str = ""  # the name before it was shortened to fit the file system (shared/filenames.py); "" if not

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "path": self.path, "tracks": list(self.tracks), "full_name": self.full_name}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MuxManifest:
        return cls(data["path"], tuple(data["tracks"]), data.get("full_name", ""))


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
class Translation(Stamped):
    """All segments translated into one language (``translation/<lang>.json``)."""

    language: str  # target, ISO 639-1
    segments: tuple[TranslatedSegment, ...]
    producer: Producer = field(default_factory=Producer)  # stage, backend, model, the model's language codes

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
        return {"schema": SCHEMA_VERSION, "language": self.language, "segments": segments, "producer": self.producer.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Translation:
        return cls(data["language"], tuple(TranslatedSegment(**{**s, "terms": tuple(s.get("terms", ()))})
                                           for s in data["segments"]), data.get("producer", {}))


@dataclass(frozen=True)
class TranslationFile:
    language: str
    path: str  # relative to the manifest's folder
    backend: str  # whisper, transformers, source
    segments: int


@dataclass(frozen=True)
class TranslationManifest(Stamped):
    """The translations a stage made, one file per target language; none when no targets were asked for."""

    files: tuple[TranslationFile, ...]
    producer: Producer = field(default_factory=Producer)

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "files": [asdict(f) for f in self.files], "producer": self.producer.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TranslationManifest:
        return cls(tuple(TranslationFile(**f) for f in data["files"]), data.get("producer", {}))


@dataclass(frozen=True)
class LyricRegion:
    start_s: float
    end_s: float
    confidence: float  # 0-1
    audio_score: float  # 0-1, from the sound alone
    text_score: float | None = None  # 0-1, from the transcript's lines there; None without them


@dataclass(frozen=True)
class LyricRegions(Stamped):
    """Song (music with singing) regions (``lyrics-detection/lyrics.json``)."""

    regions: tuple[LyricRegion, ...]
    audio_duration_s: float
    producer: Producer = field(default_factory=Producer)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "audio_duration_s": _ms(self.audio_duration_s),
            "lyrics_duration_s": _ms(sum(r.end_s - r.start_s for r in self.regions)),
            "regions": [{"start_s": _ms(r.start_s), "end_s": _ms(r.end_s), "confidence": round(r.confidence, 3),
                         "audio_score": round(r.audio_score, 3),
                         "text_score": None if r.text_score is None else round(r.text_score, 3)} for r in self.regions],
            "producer": self.producer.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LyricRegions:
        return cls(tuple(LyricRegion(**r) for r in data["regions"]), data["audio_duration_s"], data.get("producer", {}))


@dataclass(frozen=True)
class FrameRate:
    """A video's frame rate as a rational (``24000/1001`` for 23.976), so frame times stay exact."""

    num: int
    den: int = 1

    def __post_init__(self) -> None:
        if self.num <= 0 or self.den <= 0:
            raise ValueError(f"frame rate {self.num}/{self.den} is not positive")

    @property
    def fps(self) -> float:
        return self.num / self.den

    @property
    def frame_ms(self) -> float:
        return 1000.0 * self.den / self.num

    def frame_at(self, ms: float) -> int:
        """The frame boundary nearest to ``ms``."""
        return math.floor(ms * self.num / (1000.0 * self.den) + 0.5)

    def ms_of(self, frame: int) -> int:
        """Where frame ``frame`` starts, in whole milliseconds (nearest)."""
        return math.floor(frame * 1000.0 * self.den / self.num + 0.5)

    def __str__(self) -> str:
        return f"{self.num}/{self.den}"


@dataclass(frozen=True)
class ShotChanges(Stamped):
    """Hard cuts of the video (``shots/shots.json``): each cut is the number of the first frame
    of the new shot (0-based, at ``frame_rate``) and its time. No video stream (audio-only
    input): ``frame_rate`` is None and there are no cuts."""

    frame_rate: FrameRate | None
    video_stream_index: int | None  # ffprobe index of the stream analysed
    frame_count: int  # frames analysed
    cut_frames: tuple[int, ...]
    cut_scores: tuple[float, ...]  # the detector's score at each cut (scdet: 0-100)
    detector: str  # e.g. "ffmpeg scdet"
    threshold: float
    producer: Producer = field(default_factory=Producer)

    @property
    def cut_times_s(self) -> tuple[float, ...]:
        if self.frame_rate is None:
            return ()
        return tuple(f * self.frame_rate.den / self.frame_rate.num for f in self.cut_frames)

    def to_json(self) -> dict[str, Any]:
        rate = self.frame_rate
        return {
            "schema": SCHEMA_VERSION,
            "frame_rate": None if rate is None else {"num": rate.num, "den": rate.den, "fps": round(rate.fps, 6)},
            "video_stream_index": self.video_stream_index,
            "frame_count": self.frame_count,
            "detector": self.detector,
            "threshold": self.threshold,
            "cuts": [{"frame": f, "time_s": round(t, 6), "score": round(s, 3)}
                     for f, t, s in zip(self.cut_frames, self.cut_times_s, self.cut_scores)],
            "producer": self.producer.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShotChanges:
        rate = data.get("frame_rate")
        cuts = data.get("cuts") or []
        return cls(None if rate is None else FrameRate(int(rate["num"]), int(rate["den"])), data.get("video_stream_index"),
                   int(data.get("frame_count") or 0), tuple(int(c["frame"]) for c in cuts),
                   tuple(float(c.get("score") or 0.0) for c in cuts), str(data.get("detector") or ""),
                   float(data.get("threshold") or 0.0), data.get("producer", {}))


def write(path: Path, record: Any) -> None:
    atomic_write_json(path, record.to_json())


def load(path: Path, cls: Any) -> Any:
    """The record of class ``cls`` (one with ``from_json``) in the JSON file at ``path``."""
    return cls.from_json(read_json(path))
