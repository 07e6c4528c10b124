"""Reading speed before and after re-splitting (stages/subtitles/timing.py, step 8).

Two fast inputs, each transcribed once by the real stages (silero-vad, asr with the
embedded model), then laid out and timed by the subtitles code twice, with
``SUBTITLE_RESPLIT`` off (what the stage did before) and on:

* ``sample.wav``, pyannote's phone call (two fast speakers), plainly and with the
  reference speakers (``sample.rttm``) as ``[Name]`` labels;
* a fast two-voice flite dialogue (``slt``/``rms``, spoken 25 % faster, short
  pauses), speakers from the known turns, as labels and as dialogue dashes.

Printed per input: cues, cues over the reading-speed cap, and every other QC rule
broken, before and after; the run fails when re-splitting leaves more cues over the
cap or breaks any other rule more often.

    python -m bench.reading_speed [--smoke]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench.audio_fixtures import EVAL_DATA, SAMPLE_RATE_HZ, to_16k_mono
from bench.eval_speakers import DIALOGUE, run_chain

FAST_STRETCH = 0.75  # flite's duration_stretch: below 1 speaks faster
PAUSE_S = 0.2


def flite_dialogue(folder: Path, lines: tuple[tuple[str, str], ...]) -> tuple[Path, list[tuple[float, float, str]]]:
    """A 16 kHz mono WAV of ``lines`` spoken fast in turn, and its turns (start s, end s, voice)."""
    import numpy as np
    import soundfile

    pieces, turns, cursor = [np.zeros(int(PAUSE_S * SAMPLE_RATE_HZ), dtype=np.float32)], [], PAUSE_S
    for k, (voice, text) in enumerate(lines):
        raw, pcm = folder / f"line{k}.raw.wav", folder / f"line{k}.wav"
        subprocess.run(["flite", "-voice", voice, "--setf", f"duration_stretch={FAST_STRETCH}", "-t", text, "-o", str(raw)],
                       check=True, timeout=60)
        to_16k_mono(raw, pcm)
        samples, _ = soundfile.read(pcm, dtype="float32")
        loud = np.flatnonzero(np.abs(samples) > 0.01)
        samples = samples[loud[0]:loud[-1] + 1] if len(loud) else samples
        turns.append((cursor, cursor + len(samples) / SAMPLE_RATE_HZ, voice))
        pieces += [samples, np.zeros(int(PAUSE_S * SAMPLE_RATE_HZ), dtype=np.float32)]
        cursor += len(samples) / SAMPLE_RATE_HZ + PAUSE_S
    out = folder / "dialogue.wav"
    soundfile.write(out, np.concatenate(pieces), SAMPLE_RATE_HZ, subtype="PCM_16")
    return out, turns


def rttm_turns(path: Path) -> list[tuple[float, float, str]]:
    turns = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            turns.append((float(parts[3]), float(parts[3]) + float(parts[4]), parts[7]))
    return turns


def speaker_of(start_s: float, end_s: float, turns: list[tuple[float, float, str]]) -> str:
    """The turn that overlaps the word most (the nearest one when none does)."""
    def overlap(t):
        return min(end_s, t[1]) - max(start_s, t[0])
    return max(turns, key=overlap)[2] if turns else ""


def measure(transcript_path: Path, turns: list[tuple[float, float, str]] | None, style: str) -> dict[str, Any]:
    """Cues and QC counts with re-splitting off and on."""
    from shared import schema
    from shared.options.subtitles import SubtitleOptions
    from stages.subtitles import qc, tracks
    from stages.subtitles.cues import to_ms, words_from_transcript

    transcript = schema.load(transcript_path, schema.Transcript)
    names = None
    if turns:
        names = [speaker_of(w.start_s, w.end_s, turns) for s in transcript.segments for w in s.words]
    words, _ = words_from_transcript(transcript, names)
    end_ms = to_ms(transcript.audio_duration_s) if transcript.audio_duration_s else None
    out: dict[str, Any] = {}
    for label, resplit in (("before", False), ("after", True)):
        options = SubtitleOptions(resplit=resplit, speaker_style=style)
        cues = tracks.make_cues(words, options, end_ms, language=transcript.language or "en")
        counts = Counter(v.rule for v in qc.check(cues, options))
        out[label] = {"cues": len(cues), "over_cap": counts["max_chars_per_s"],
                      "other": {r: n for r, n in counts.items() if r != "max_chars_per_s"}}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="three dialogue lines and the phone call: seconds, not minutes")
    args = parser.parse_args(argv)
    rows: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        inputs: list[tuple[str, Path, list | None, tuple[str, ...]]] = []
        call = folder / "sample.wav"
        to_16k_mono(EVAL_DATA / "sample.wav", call)
        inputs.append(("sample.wav", call, rttm_turns(EVAL_DATA / "sample.rttm"), ("none", "label")))
        if shutil.which("flite"):
            (folder / "flite").mkdir()
            wav, turns = flite_dialogue(folder / "flite", DIALOGUE[:3] if args.smoke else DIALOGUE)
            inputs.append(("flite dialogue", wav, turns, ("label", "dash")))
        else:
            print("flite dialogue: skipped (flite is not installed)")
        for name, wav, turns, styles in inputs:
            paths = run_chain(wav, folder / ("jobs-" + name.replace(" ", "-")), ("silero-vad", "asr"),
                              {"asr": {"language": "en"}})
            for style in styles:
                rows.append((f"{name} ({'no speakers' if style == 'none' else 'speakers as ' + style + 's'})",
                             measure(paths["transcript"], turns if style != "none" else None, style)))
    print(f"{'input':44} {'cues':>9} {'over cap':>10}  other rules broken (before -> after)")
    ok = True
    for name, r in rows:
        b, a = r["before"], r["after"]
        others = sorted(set(b["other"]) | set(a["other"]))
        other = ", ".join(f"{k} {b['other'].get(k, 0)}->{a['other'].get(k, 0)}" for k in others) or "none"
        print(f"{name:44} {b['cues']:>4}->{a['cues']:<4} {b['over_cap']:>4}->{a['over_cap']:<4}  {other}")
        ok &= a["over_cap"] <= b["over_cap"] and all(a["other"].get(k, 0) <= b["other"].get(k, 0) for k in others)
    total_b = sum(r["before"]["over_cap"] for _, r in rows)
    total_a = sum(r["after"]["over_cap"] for _, r in rows)
    print(f"cues over the reading-speed cap: {total_b} before, {total_a} after re-splitting")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
