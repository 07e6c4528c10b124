"""Speaker accuracy: DER, speaker-attributed words, and a two-voice dialogue.

    python -m bench.eval_speakers [--json PATH] [--smoke]

prints, on the team's eval data (``../shared/eval-data``):

* the diarization error rate of the embedded pipeline on ``sample.wav``
  against ``sample.rttm`` (no collar, overlap scored), by pyannote.metrics
  (:func:`bench.metrics.diarization_error_rate`);
* speaker-attributed word accuracy against ``sample.stm``: the pipeline's
  words (asr + speakers) aligned to the reference words, and how many got
  the right text and the right speaker;
* a dialogue made with flite's ``slt`` (female) and ``rms`` (male) voices:
  how many of its turns get the right speaker (all of them, to pass).

The stages run in this process on files in a temporary folder, exactly
through their ``run`` functions.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.metrics import diarization_error_rate, normalize_text
from shared.speakers import Turn, parse_rttm

REPO_ROOT = Path(__file__).resolve().parent.parent
EVAL_DATA = REPO_ROOT.parent / "shared" / "eval-data"
SAMPLE_RATE_HZ = 16000

# The two-voice dialogue: (voice, line). slt is female, rms male; espeak voices are not separable.
DIALOGUE = (
    ("slt", "Good evening. Did you find the house without any trouble?"),
    ("rms", "Yes, thank you. The directions were perfect, and the traffic was light."),
    ("slt", "I am glad to hear it. Please come in and sit down by the fire."),
    ("rms", "What a lovely room. Have you lived here for a long time?"),
    ("slt", "Almost twenty years now. My father built the east wing himself."),
    ("rms", "It shows. The woodwork is beautiful, and the windows face the garden."),
    ("slt", "Would you like some tea before we look at the papers?"),
    ("rms", "That would be very kind. Then we can go through the contract together."),
)
DIALOGUE_PAUSE_S = 0.6
SMOKE_LINES = 4  # --smoke: the dialogue's first lines only, no sample.wav


# --- speaker mapping ------------------------------------------------------------------------------


def best_mapping(overlap: dict[tuple[str, str], float], refs: Sequence[str], hyps: Sequence[str]) -> dict[str, str]:
    """hypothesis label -> reference label, one to one, maximising the total overlap."""
    try:
        import numpy as np
        from scipy.optimize import linear_sum_assignment

        matrix = np.array([[overlap.get((r, h), 0.0) for h in hyps] for r in refs])
        rows, cols = linear_sum_assignment(-matrix) if matrix.size else ([], [])
        return {hyps[c]: refs[r] for r, c in zip(rows, cols) if matrix[r, c] > 0}
    except ImportError:  # brute force: fine for the few speakers of the eval data
        best, best_score = {}, -1.0
        small, large = (refs, hyps) if len(refs) <= len(hyps) else (hyps, refs)
        for perm in itertools.permutations(large, len(small)):
            pairs = list(zip(small, perm)) if small is refs else [(r, h) for h, r in zip(small, perm)]
            score = sum(overlap.get((r, h), 0.0) for r, h in pairs)
            if score > best_score:
                best, best_score = {h: r for r, h in pairs if overlap.get((r, h), 0.0) > 0}, score
        return best


# --- speaker-attributed words ----------------------------------------------------------------------


@dataclass(frozen=True)
class RefWord:
    text: str
    speaker: str


def parse_stm(text: str) -> list[RefWord]:
    """Words with their speaker from STM lines: ``file channel speaker start end words...``."""
    words = []
    for line in text.splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) < 6 or line.startswith(";;"):
            continue
        words.extend(RefWord(w, parts[2]) for w in normalize_text(parts[5]).split())
    return words


def align_words(ref: Sequence[str], hyp: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """Levenshtein alignment: pairs (ref index or None, hyp index or None)."""
    n, m = len(ref), len(hyp)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = i
    for j in range(1, m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i][j] = min(cost[i - 1][j] + 1, cost[i][j - 1] + 1, cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
    pairs, i, j = [], n, m
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((None, j - 1))
            j -= 1
    return pairs[::-1]


def speaker_word_accuracy(reference: Sequence[RefWord], hypothesis: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """``hypothesis``: (word text, speaker) in order. Words are normalised and aligned; speakers
    are mapped one to one for the largest agreement on aligned words."""
    hyp_words: list[tuple[str, str]] = []
    for text, speaker in hypothesis:
        hyp_words.extend((w, speaker) for w in normalize_text(text).split())
    pairs = align_words([r.text for r in reference], [h[0] for h in hyp_words])
    aligned = [(reference[i], hyp_words[j]) for i, j in pairs if i is not None and j is not None]
    counts: dict[tuple[str, str], float] = {}
    for r, (_, s) in aligned:
        counts[(r.speaker, s)] = counts.get((r.speaker, s), 0) + 1
    mapping = best_mapping(counts, sorted({r.speaker for r in reference}), sorted({s for _, s in hyp_words}))
    right_speaker = sum(1 for r, (_, s) in aligned if mapping.get(s) == r.speaker)
    both = sum(1 for r, (w, s) in aligned if mapping.get(s) == r.speaker and w == r.text)
    text_right = sum(1 for r, (w, _) in aligned if w == r.text)
    n = len(reference) or 1
    return {"reference_words": len(reference), "hypothesis_words": len(hyp_words), "aligned_words": len(aligned),
            "word_accuracy": text_right / n, "speaker_accuracy_of_aligned": right_speaker / (len(aligned) or 1),
            "speaker_attributed_word_accuracy": both / n, "mapping": mapping}


# --- the two-voice dialogue ---------------------------------------------------------------------


def flite_available() -> bool:
    return shutil.which("flite") is not None and shutil.which("ffmpeg") is not None


def make_dialogue(folder: Path, lines: Sequence[tuple[str, str]] = DIALOGUE,
                  pause_s: float = DIALOGUE_PAUSE_S) -> tuple[Path, list[Turn]]:
    """A 16 kHz mono WAV of the lines spoken in turn, and its reference turns (one per line)."""
    import numpy as np
    import soundfile

    folder.mkdir(parents=True, exist_ok=True)
    pieces, turns, cursor = [], [], pause_s
    silence = np.zeros(int(pause_s * SAMPLE_RATE_HZ), dtype=np.float32)
    pieces.append(silence)
    for k, (voice, text) in enumerate(lines):
        raw = folder / f"line{k}.raw.wav"
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(raw)], check=True, timeout=60)
        pcm = folder / f"line{k}.wav"
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(raw), "-ac", "1",
                        "-ar", str(SAMPLE_RATE_HZ), "-c:a", "pcm_s16le", str(pcm)], check=True, timeout=60)
        samples, _ = soundfile.read(pcm, dtype="float32")
        samples = _trim(samples)
        turns.append(Turn(round(cursor, 3), round(cursor + len(samples) / SAMPLE_RATE_HZ, 3), voice))
        pieces.extend([samples, silence])
        cursor += len(samples) / SAMPLE_RATE_HZ + pause_s
    out = folder / "dialogue.wav"
    soundfile.write(out, np.concatenate(pieces), SAMPLE_RATE_HZ, subtype="PCM_16")
    return out, turns


def _trim(samples, threshold: float = 0.01):
    import numpy as np

    loud = np.flatnonzero(np.abs(samples) > threshold)
    return samples[loud[0]:loud[-1] + 1] if len(loud) else samples


def turn_accuracy(reference: Sequence[Turn], hypothesis: Sequence[Turn]) -> dict[str, Any]:
    """Each reference turn's speaker: the hypothesis speaker covering most of it, mapped one to one."""
    majority = []
    for r in reference:
        shares: dict[str, float] = {}
        for h in hypothesis:
            shares[h.speaker] = shares.get(h.speaker, 0.0) + max(0.0, min(r.end_s, h.end_s) - max(r.start_s, h.start_s))
        majority.append(max(shares, key=shares.get) if shares and max(shares.values()) > 0 else "")
    overlap: dict[tuple[str, str], float] = {}
    for r, h in zip(reference, majority):
        overlap[(r.speaker, h)] = overlap.get((r.speaker, h), 0.0) + 1
    mapping = best_mapping(overlap, sorted({r.speaker for r in reference}), sorted({h for h in majority if h}))
    right = sum(1 for r, h in zip(reference, majority) if mapping.get(h) == r.speaker)
    return {"turns": len(reference), "right": right, "speakers_found": len({t.speaker for t in hypothesis}),
            "majority": majority, "mapping": mapping}


# --- running the stages -----------------------------------------------------------------------------


def run_chain(audio: Path, folder: Path, stages: Sequence[str] = ("silero-vad", "pyannote-vad", "diarization"),
              options: dict[str, Any] | None = None) -> dict[str, Path]:
    """Run stages through their ``run`` functions on ``audio`` (16 kHz mono WAV); returns artifact paths."""
    import importlib

    from shared import graph
    from shared import options as opts
    from shared.progress import no_progress

    options = options or {}
    paths: dict[str, Path] = {"audio": audio}
    for name in stages:
        spec = graph.stage(name)
        out_dir = folder / name
        out_dir.mkdir(parents=True, exist_ok=True)
        inputs = {a: paths[a] for a in (*spec.inputs, *spec.optional_inputs) if a in paths}
        outputs = {a: out_dir / graph.ARTIFACTS[a].filename for a in spec.outputs}
        module = importlib.import_module(spec.module + ".stage")
        module.run(inputs, outputs, opts.resolve(spec.options, options.get(name), {}), no_progress)
        paths.update(outputs)
    return paths


def evaluate(workdir: Path, smoke: bool = False) -> dict[str, Any]:
    from shared import schema
    from shared.speakers import Diarization

    results: dict[str, Any] = {}
    if not smoke:
        results.update(evaluate_sample(workdir))
    if flite_available():
        wav, turns = make_dialogue(workdir / "dialogue-audio", DIALOGUE[:SMOKE_LINES] if smoke else DIALOGUE)
        paths = run_chain(wav, workdir / "dialogue")
        hyp = schema.load(paths["diarization"], Diarization)
        results["dialogue"] = turn_accuracy(turns, hyp.exclusive)
        results["dialogue_der"] = round(diarization_error_rate(turns, hyp.turns)["der"], 4)
    else:
        results["dialogue"] = None
    return results


def evaluate_sample(workdir: Path) -> dict[str, Any]:
    """sample.wav: DER against sample.rttm, speaker-attributed words against sample.stm."""
    from shared import schema
    from shared.speakers import Diarization, SpeakerTranscript

    results: dict[str, Any] = {}
    sample = EVAL_DATA / "sample.wav"
    t0 = time.perf_counter()
    paths = run_chain(sample, workdir / "sample", ("silero-vad", "pyannote-vad", "diarization", "asr", "speakers"))
    results["sample_chain_s"] = round(time.perf_counter() - t0, 2)
    diarization = schema.load(paths["diarization"], Diarization)
    reference = parse_rttm((EVAL_DATA / "sample.rttm").read_text())["sample"]
    der = diarization_error_rate(reference, diarization.turns)
    results["sample_der"] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in der.items()}
    results["sample_speakers_found"] = len(diarization.speakers)
    words = schema.load(paths["speaker_words"], SpeakerTranscript)
    stm = parse_stm((EVAL_DATA / "sample.stm").read_text())
    results["sample_words"] = speaker_word_accuracy(stm, [(w.text, w.speaker) for w in words.words])
    results["sample_timing"] = words.timing.get("method")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.eval_speakers", description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--smoke", action="store_true",
                        help=f"only the flite dialogue's first {SMOKE_LINES} lines: checks the bench runs")
    args = parser.parse_args(argv)
    from shared.offline import apply_offline_environment

    apply_offline_environment()
    if not (EVAL_DATA / "sample.wav").is_file():
        print(f"error: eval data not found at {EVAL_DATA}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="eval-speakers-") as tmp:
        results = evaluate(Path(tmp), smoke=args.smoke)
    if args.smoke:
        print_dialogue(results)
        return 0
    der = results["sample_der"]
    print(f"sample.wav DER (embedded pipeline, pyannote.metrics, no collar): {der['der'] * 100:.2f} %  "
          f"(missed {der['missed'] * 100:.2f}, false alarm {der['false_alarm'] * 100:.2f}, "
          f"confusion {der['confusion'] * 100:.2f}); speakers found {results['sample_speakers_found']}")
    w = results["sample_words"]
    print(f"sample.stm words ({results['sample_timing']} times): word accuracy {w['word_accuracy'] * 100:.1f} %, "
          f"speaker right on {w['speaker_accuracy_of_aligned'] * 100:.1f} % of aligned words, "
          f"speaker-attributed word accuracy {w['speaker_attributed_word_accuracy'] * 100:.1f} % "
          f"({w['reference_words']} reference words)")
    print_dialogue(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    ok = der["der"] <= 0.10 and (results["dialogue"] is None or results["dialogue"]["right"] == results["dialogue"]["turns"])
    return 0 if ok else 1


def print_dialogue(results: dict[str, Any]) -> None:
    if results["dialogue"] is None:
        print("flite dialogue: skipped (flite or ffmpeg not installed)")
        return
    d = results["dialogue"]
    print(f"flite slt/rms dialogue: {d['right']}/{d['turns']} turns right, {d['speakers_found']} speakers found, "
          f"DER {results['dialogue_der'] * 100:.2f} %")


if __name__ == "__main__":
    sys.exit(main())
