"""What the report shows, read from a job folder into one JSON-ready record.

Every section is read on its own: a stage that did not run leaves its section
empty, and a file that cannot be read becomes a line in ``notes``, never the
end of the report. Lists are capped (``Limits``) so a long film still makes a
small file; what a cap left out is said in ``notes``. Times are seconds,
cue times integer milliseconds (as in the subtitle files).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from host.report import cues as cue_files
from host.report.envelope import envelope
from shared import graph
from shared.fsio import read_json
from shared.job import JOB_FILE, Job
from shared.lock import read_lock, read_outcome
from shared.schema import LyricRegions, MediaInfo, SpeechRegions, SubtitleManifest
from shared.speakers import Diarization, SpeakerTranscript

SHOTS_FILE = Path("shots") / "shots.json"  # the shots stage's cuts, where the graph has it
VAD_STAGES = ("silero-vad", "pyannote-vad")


@dataclass(frozen=True)
class Limits:
    """Caps on what one report holds (a two-hour film has about 1500 cues a track)."""

    envelope_points: int = 4000
    regions: int = 20000  # per lane: VAD regions, speaker turns, songs, shot cuts
    cues: int = 5000  # per track
    tracks: int = 16
    violations: int = 3000
    corrections: int = 2000
    text_chars: int = 300  # per cue, violation or correction text


def _r(value: Any) -> float:
    return round(float(value), 3)


def _capped(items: list[Any], limit: int, what: str, notes: list[str]) -> list[Any]:
    if len(items) > limit:
        notes.append(f"{what}: {len(items)}, the first {limit} shown")
        return items[:limit]
    return items


def _text(value: Any, limits: Limits) -> str:
    text = str(value if value is not None else "")
    return text if len(text) <= limits.text_chars else text[: limits.text_chars - 1] + "…"


def _read(job: Job, stage: str, name: str) -> Any | None:
    path = job.root / stage / name
    return read_json(path) if path.is_file() else None


# --- the sections --------------------------------------------------------------------------------


def job_info(job: Job, summary: dict[str, Any] | None) -> dict[str, Any]:
    info: dict[str, Any] = {"id": job.id, "folder": str(job.root)}
    record = read_json(job.root / JOB_FILE).get("input", {}) if (job.root / JOB_FILE).is_file() else {}
    info["input"] = str(record.get("path") or "")
    info["input_name"] = str(record.get("name") or Path(info["input"]).name)
    media = _read(job, "demux", "media.json")
    if media is not None:
        m = MediaInfo.from_json(media)
        info.update(duration_s=_r(m.duration_s), container=m.container, audio_language=m.audio_language,
                    streams=[f"{s.kind} {s.codec}" + (f" ({s.language})" if s.language else "") for s in m.streams])
    if summary:
        info["wall_s"] = summary.get("wall_s")
        info["profile"] = summary.get("profile", "")
    return info


def stages(job: Job, summary: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every stage of the graph: what the last run did (the summary's status, else the stage's
    own outcome.json), its wall time, CPU time and peak memory (lock.json) and its model."""
    by_name = {s.get("stage"): s for s in (summary or {}).get("stages", []) if isinstance(s, dict)}
    rows = []
    for spec in graph.topological_order():
        folder = job.root / spec.name
        outcome = read_outcome(folder) or {}
        status = str(by_name.get(spec.name, {}).get("status") or outcome.get("status") or "")
        lock = read_lock(folder)
        if not status:
            status = "done" if lock else "not run"
        current = lock if lock is not None and status in ("ran", "fresh", "done") else None  # else an older run's
        timings = current.timings if current else {}
        model = {**current.fingerprint.model, **(current.report.get("model") or {})} if current else {}
        notes = by_name.get(spec.name, {}).get("notes") or (current.report.get("notes", []) if current else [])
        failed = status.startswith("failed") or outcome.get("status") == "failed"
        rows.append({
            "stage": spec.name,
            "status": status,
            "wall_s": timings.get("wall_s"),
            "cpu_s": timings.get("cpu_s"),
            "peak_rss_mb": timings.get("peak_rss_mb"),
            "model": {k: v for k, v in model.items() if isinstance(v, (str, int, float, bool)) and v != ""},
            "reasons": [str(r) for r in outcome.get("reasons", [])] if outcome.get("status") in ("ran", "fresh") else [],
            "error": str(outcome.get("error") or "") if failed else "",
            "notes": [str(n) for n in notes],
        })
    return rows


def speech(job: Job, limits: Limits, notes: list[str]) -> dict[str, list[list[float]]]:
    lanes = {}
    for stage in VAD_STAGES:
        data = _read(job, stage, "speech.json")
        if data is not None:
            regions = [[_r(r.start_s), _r(r.end_s)] for r in SpeechRegions.from_json(data).regions]
            lanes[stage] = _capped(regions, limits.regions, f"{stage} regions", notes)
    return lanes


def speakers(job: Job, limits: Limits, notes: list[str]) -> dict[str, Any] | None:
    """Speaker turns with the names shown: the speakers stage's (names from the metadata),
    else diarization's exclusive turns."""
    words = _read(job, "speakers", "words.json")
    if words is not None:
        record = SpeakerTranscript.from_json(words)
        if record.turns:
            turns = [[_r(t.start_s), _r(t.end_s), t.speaker] for t in record.turns]
            labels = list(dict.fromkeys(t.speaker for t in record.turns))
            return {"source": "speakers/words.json", "names": {label: record.name(label) for label in labels},
                    "turns": _capped(turns, limits.regions, "speaker turns", notes)}
    data = _read(job, "diarization", "speakers.json")
    if data is None:
        return None
    record_d = Diarization.from_json(data)
    turns = [[_r(t.start_s), _r(t.end_s), t.speaker] for t in (record_d.exclusive or record_d.turns)]
    return {"source": "diarization/speakers.json", "names": {s: s for s in record_d.speakers},
            "turns": _capped(turns, limits.regions, "speaker turns", notes)}


def songs(job: Job, limits: Limits, notes: list[str]) -> list[list[float]]:
    data = _read(job, "lyrics-detection", "lyrics.json")
    if data is None:
        return []
    regions = [[_r(r.start_s), _r(r.end_s), round(r.confidence, 3)] for r in LyricRegions.from_json(data).regions]
    return _capped(regions, limits.regions, "song regions", notes)


def shot_cuts(job: Job, limits: Limits, notes: list[str]) -> list[float] | None:
    """The shots stage's cut times (``{"cuts": [{"time_s": ...}, ...]}``; a bare list of times
    or of such records is read too). None when there is no shots file."""
    path = job.root / SHOTS_FILE
    if not path.is_file():
        return None
    data = read_json(path)
    items = data.get("cuts", data.get("shots", [])) if isinstance(data, dict) else data
    times = []
    for item in items if isinstance(items, list) else []:
        value = item.get("time_s", item.get("start_s")) if isinstance(item, dict) else item
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            times.append(_r(value))
    return _capped(sorted(times), limits.regions, "shot cuts", notes)


def tracks(job: Job, limits: Limits, notes: list[str]) -> list[dict[str, Any]]:
    data = _read(job, "subtitles", "manifest.json")
    if data is None:
        return []
    found, track_notes = cue_files.read_tracks(job.root / "subtitles", SubtitleManifest.from_json(data), limits.cues)
    notes += track_notes
    found = _capped(found, limits.tracks, "subtitle tracks", notes)
    return [{"name": t.name, "language": t.language, "kind": t.kind, "path": t.path,
             "cues": [[c.start_ms, c.end_ms, _text(c.text, limits)] for c in t.cues]} for t in found]


def violations(job: Job, track_list: list[dict[str, Any]], limits: Limits, notes: list[str]) -> list[dict[str, Any]]:
    """qc.json's violations, each with the track it belongs to: the top level is the original
    language's track (the first transcript track), ``tracks`` (with translations) each its own."""
    data = _read(job, "subtitles", "qc.json")
    if not isinstance(data, dict):
        return []

    def track_of(language: str, kind: str) -> str:
        for t in track_list:
            if t["language"] == language and t["kind"] == kind:
                return str(t["name"])
        return ""

    original = next((t for t in track_list if t["kind"] == "transcript"), track_list[0] if track_list else None)
    groups = [(str(t.get("language", "")), str(t.get("kind", "")), t.get("violations", []))
              for t in data.get("tracks", []) if isinstance(t, dict)]
    if not groups:
        groups = [(original["language"] if original else "", original["kind"] if original else "",
                   data.get("violations", []))]
    found = []
    for language, kind, items in groups:
        name = track_of(language, kind)
        for v in items if isinstance(items, list) else []:
            if not isinstance(v, dict):
                continue
            found.append({"track": name, "language": language, "kind": kind, "cue": int(v.get("cue") or 0),
                          "rule": str(v.get("rule", "")), "measured": v.get("measured"), "limit": v.get("limit"),
                          "note": _text(v.get("note", ""), limits), "start_ms": int(v.get("start_ms") or 0),
                          "end_ms": int(v.get("end_ms") or 0), "text": _text(v.get("text", ""), limits)})
    return _capped(found, limits.violations, "QC violations", notes)


def corrections(job: Job, limits: Limits, notes: list[str]) -> dict[str, list[dict[str, Any]]] | None:
    data = _read(job, "post-ner", "corrections.json")
    if not isinstance(data, dict):
        return None
    keys = ("original", "corrected", "candidate", "score", "needed", "rule", "trigger", "kind", "source")

    def rows(items: Any, what: str) -> list[dict[str, Any]]:
        out = [{**{k: (_text(c[k], limits) if isinstance(c[k], str) else c[k]) for k in keys if k in c},
                "start_s": _r(c.get("start_s") or 0), "end_s": _r(c.get("end_s") or 0)}
               for c in (items if isinstance(items, list) else []) if isinstance(c, dict)]
        return _capped(out, limits.corrections, what, notes)

    return {"corrections": rows(data.get("corrections"), "post-ner corrections"),
            "near_misses": rows(data.get("near_misses"), "post-ner near misses")}


def removals(job: Job, limits: Limits, notes: list[str]) -> list[dict[str, Any]]:
    """What the asr stage took out as invented text: the transcript's ``removed`` records
    (``schema.Removed``: ``start_s``, ``end_s``, ``text``, ``reason``; post-ner's transcript carries
    asr's). None recorded: empty."""
    found: list[dict[str, Any]] = []
    for stage in ("post-ner", "asr"):
        data = _read(job, stage, "transcript.json")
        if not isinstance(data, dict):
            continue
        for item in data.get("removed") or []:
            if isinstance(item, dict) and "start_s" in item:
                found.append({"start_s": _r(item["start_s"]), "end_s": _r(item.get("end_s", item["start_s"])),
                              "text": _text(item.get("text", ""), limits),
                              "reason": _text(item.get("reason", ""), limits)})
        break  # post-ner's transcript when it ran (it keeps asr's removals), else asr's
    unique = list({(r["start_s"], r["end_s"], r["text"]): r for r in found}.values())
    return _capped(unique, limits.corrections, "hallucination removals", notes)


def audio_envelope(job: Job, limits: Limits) -> dict[str, Any] | None:
    path = job.root / "demux" / "audio.wav"
    return envelope(path, limits.envelope_points).to_json() if path.is_file() else None


# --- all of it -----------------------------------------------------------------------------------


def collect(job: Job, summary: dict[str, Any] | None = None, limits: Limits = Limits()) -> dict[str, Any]:
    """The report's record of ``job``. ``summary``: the run's summary (summary.json's contents);
    without it the stages' own outcome.json say what happened."""
    notes: list[str] = []

    def section(label: str, read: Callable[[], Any], empty: Any) -> Any:
        try:
            return read()
        except Exception as err:  # one unreadable file costs its section, not the report
            notes.append(f"{label}: cannot be read ({type(err).__name__}: {str(err)[:200]})")
            return empty

    record: dict[str, Any] = {"schema": 1, "generated_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    record["job"] = section("job", lambda: job_info(job, summary), {"id": job.id, "folder": str(job.root)})
    record["stages"] = section("stages", lambda: stages(job, summary), [])
    record["envelope"] = section("demux/audio.wav", lambda: audio_envelope(job, limits), None)
    record["speech"] = section("speech regions", lambda: speech(job, limits, notes), {})
    record["speakers"] = section("speakers", lambda: speakers(job, limits, notes), None)
    record["songs"] = section("lyrics-detection/lyrics.json", lambda: songs(job, limits, notes), [])
    record["shots"] = section(str(SHOTS_FILE), lambda: shot_cuts(job, limits, notes), None)
    record["tracks"] = section("subtitles/manifest.json", lambda: tracks(job, limits, notes), [])
    record["qc"] = section("subtitles/qc.json", lambda: violations(job, record["tracks"], limits, notes), [])
    record["corrections"] = section("post-ner/corrections.json", lambda: corrections(job, limits, notes), None)
    record["removals"] = section("transcript", lambda: removals(job, limits, notes), [])
    ends = [record["job"].get("duration_s") or 0.0, (record["envelope"] or {}).get("duration_s") or 0.0]
    ends += [c[1] / 1000 for t in record["tracks"] for c in t["cues"][-1:]]
    record["duration_s"] = _r(max(ends))
    record["notes"] = notes
    return record
