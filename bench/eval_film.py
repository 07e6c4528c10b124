"""The film evaluation: the whole default pipeline on generated reels with exact references.

    python -m bench.eval_film                      # every reel (bench/film_reels.py), about 11 min of film
    python -m bench.eval_film --reels song,german  # some of them
    python -m bench.eval_film --set ASR_REMOVE_HALLUCINATIONS=false --tag before   # a setting changed, side by side
    python -m bench.eval_film --smoke              # one 15 s reel: proves the evaluation runs

Each reel runs through the native runner (``host.runner``, every default stage)
in a fresh job under ``bench/results/film/jobs-<tag>``. Printed per reel and
in total, all on the video's timeline (reference times + the reel's audio delay):

* **dialogue WER**: the reference text of the dialogue passages against the
  transcript's words (post-ner's when it ran) that touch a dialogue passage
  (± ``TOLERANCE_S``), Whisper's English normalization (bench/metrics.py);
  the total is the corpus WER over every reel;
* **hallucinated words per minute of non-speech**: transcript words that
  touch no reference voiced extent (dialogue, song, foreign) widened by
  ``TOLERANCE_S``, over the minutes outside those extents;
* **cue timing**: for each reference phrase, the subtitle cue (first SRT
  track) starting nearest its first-word start, within ``CUE_WINDOW_S``;
  median and p95 of |cue start - phrase start| in ms;
* **song cues**: a cue is a song cue when half its time lies in a reference
  song region and is marked when it carries ♪; precision and recall;
* **language per passage**: the language the transcript records over each
  passage (a segment's own ``language`` when it has one, else the transcript's).

Results go to ``bench/results/film-<tag>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.audio_fixtures import REPO_ROOT
from bench.film_reels import CACHE, Reel, build_reels

TOLERANCE_S = 0.5  # word times vs voiced extents: Whisper's word edges drift by a few hundred ms
CUE_WINDOW_S = 1.5  # a cue further than this from a phrase's start does not start that phrase
SONG_MARK = "♪"


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _touches(start: float, end: float, spans: list[tuple[float, float]], tolerance_s: float) -> bool:
    return any(start <= b + tolerance_s and end >= a - tolerance_s for a, b in spans)


def _overlap_s(a: float, b: float, spans: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(b, y) - max(a, x)) for x, y in spans)


def run_reel(reel: Reel, jobs_dir: Path, settings: dict[str, str], keep: bool = False) -> tuple[Path, float]:
    """The runner on a fresh job for ``reel`` (``keep``: on its job as it stands, so only what is stale
    reruns): its folder and the wall time."""
    root = jobs_dir / reel.name
    if root.exists() and not keep:
        shutil.rmtree(root)
    jobs_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **settings, "PYTHONPATH": str(REPO_ROOT), "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING")}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "host.runner", str(reel.media), "--jobs-dir", str(jobs_dir),
                           "--job-id", reel.name], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{reel.name}: the runner failed: {' '.join(proc.stderr.strip().splitlines()[-2:])}")
    return root, time.perf_counter() - started


def _transcript(root: Path) -> dict:
    for path in (root / "post-ner" / "transcript.json", root / "asr" / "transcript.json"):
        if path.is_file():
            return json.loads(path.read_text())
    raise FileNotFoundError(f"no transcript in {root}")


def _cues(root: Path) -> list[tuple[float, float, str]]:
    import pysubs2

    manifest = json.loads((root / "subtitles" / "manifest.json").read_text())
    srt = [f for f in manifest["files"] if f["format"] == "srt" and f.get("kind", "transcript") == "transcript"]
    if not srt:
        return []
    subs = pysubs2.load(str(root / "subtitles" / srt[0]["path"]), encoding="utf-8")
    return [(e.start / 1000, e.end / 1000, e.plaintext) for e in subs]


def measure(reel: Reel, transcript: dict, cues: list[tuple[float, float, str]]) -> dict:
    """Every figure of one reel from its transcript and cues (times on the video's timeline)."""
    from bench.metrics import normalize_text

    shift = reel.audio_delay_s
    passages = [(p.start_s + shift, p.end_s + shift, p) for p in reel.passages]
    voiced = _union([(a, b) for a, b, _ in passages])
    dialogue = [(a, b) for a, b, p in passages if p.kind == "dialogue"]
    songs = [(a + shift, b + shift) for a, b in reel.songs]
    words = [(w["start_s"], w["end_s"], w["text"], s.get("language") or transcript["language"])
             for s in transcript["segments"] for w in s["words"]]

    hallucinated = [w for w in words if not _touches(w[0], w[1], voiced, TOLERANCE_S)]
    nonspeech_s = max(0.0, reel.duration_s - sum(b - a for a, b in voiced))
    reference = " ".join(p.text for _, _, p in passages if p.kind == "dialogue")
    hypothesis = " ".join(w[2].strip() for w in words if _touches(w[0], w[1], dialogue, TOLERANCE_S))

    timing_ms = []
    for a, b, p in passages:
        if p.kind not in ("dialogue", "song"):
            continue
        near = [abs(c[0] - a) for c in cues if a - CUE_WINDOW_S <= c[0] <= min(b, a + CUE_WINDOW_S)]
        if near:
            timing_ms.append(round(1000 * min(near)))

    song_cues = marked = both = 0
    for a, b, text in cues:
        is_song = b > a and _overlap_s(a, b, songs) >= 0.5 * (b - a)
        is_marked = SONG_MARK in text
        song_cues += is_song
        marked += is_marked
        both += is_song and is_marked

    languages = []
    for a, b, p in passages:
        inside = [w[3] for w in words if a - TOLERANCE_S <= (w[0] + w[1]) / 2 <= b + TOLERANCE_S]
        got = max(set(inside), key=inside.count) if inside else "-"
        languages.append({"passage": p.source, "expected": p.language, "got": got})

    removed = transcript.get("removed") or []
    return {
        "reel": reel.name,
        "duration_s": reel.duration_s,
        "reference": normalize_text(reference),
        "hypothesis": normalize_text(hypothesis),
        "hallucinated_words": len(hallucinated),
        "hallucinated_text": " ".join(w[2].strip() for w in hallucinated),
        "nonspeech_s": round(nonspeech_s, 3),
        "cue_timing_ms": timing_ms,
        "song_cues": song_cues, "marked_cues": marked, "marked_song_cues": both,
        "languages": languages,
        "transcript_language": transcript["language"],
        "removed": len(removed),
        "removed_reasons": sorted({r.get("reason", "") for r in removed}),
    }


def _wer(references: list[str], hypotheses: list[str]) -> float | None:
    import jiwer

    pairs = [(r, h) for r, h in zip(references, hypotheses) if r]
    if not pairs:
        return None
    return float(jiwer.wer([r for r, _ in pairs], [h for _, h in pairs]))


def _percentile(values: list[int], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))])


def summarize(rows: list[dict]) -> dict:
    timing = [t for r in rows for t in r["cue_timing_ms"]]
    nonspeech_min = sum(r["nonspeech_s"] for r in rows) / 60
    hallucinated = sum(r["hallucinated_words"] for r in rows)
    marked = sum(r["marked_cues"] for r in rows)
    song = sum(r["song_cues"] for r in rows)
    both = sum(r["marked_song_cues"] for r in rows)
    passages = [p for r in rows for p in r["languages"]]
    return {
        "dialogue_wer": _wer([r["reference"] for r in rows], [r["hypothesis"] for r in rows]),
        "hallucinated_words": hallucinated,
        "nonspeech_min": round(nonspeech_min, 3),
        "hallucinated_per_min": round(hallucinated / nonspeech_min, 3) if nonspeech_min else None,
        "hallucinated_per_10min": round(10 * hallucinated / nonspeech_min, 3) if nonspeech_min else None,
        "cue_timing_median_ms": statistics.median(timing) if timing else None,
        "cue_timing_p95_ms": _percentile(timing, 0.95),
        "cue_phrases": len(timing),
        "song_precision": round(both / marked, 3) if marked else None,
        "song_recall": round(both / song, 3) if song else None,
        "language_right": f"{sum(p['expected'] == p['got'] for p in passages)}/{len(passages)}",
    }


def _fmt(value, spec: str = ".1f", scale: float = 1.0) -> str:
    return "-" if value is None else format(value * scale, spec)


def report(rows: list[dict], total: dict) -> str:
    lines = [f"{'reel':15s} {'WER %':>6s} {'halluc':>6s} {'non-sp s':>8s} {'/min':>5s} {'cue med':>7s} {'p95 ms':>6s} "
             f"{'song P/R':>9s} {'removed':>7s}  languages (expected>got)"]
    for r in rows:
        s = summarize([r])
        langs = " ".join(f"{p['expected']}>{p['got']}" for p in r["languages"] if p["expected"] != "en" or p["got"] != "en")
        lines.append(f"{r['reel']:15s} {_fmt(s['dialogue_wer'], '.1f', 100):>6s} {r['hallucinated_words']:6d} "
                     f"{r['nonspeech_s']:8.1f} {_fmt(s['hallucinated_per_min'], '.2f'):>5s} "
                     f"{_fmt(s['cue_timing_median_ms'], '.0f'):>7s} {_fmt(s['cue_timing_p95_ms'], '.0f'):>6s} "
                     f"{_fmt(s['song_precision'], '.2f')}/{_fmt(s['song_recall'], '.2f'):<4s} {r['removed']:7d}  "
                     f"{langs or 'all en>en'}")
    lines.append(f"total: dialogue WER {_fmt(total['dialogue_wer'], '.1f', 100)} %; hallucinated words "
                 f"{total['hallucinated_words']} in {total['nonspeech_min']:.1f} min of non-speech = "
                 f"{_fmt(total['hallucinated_per_10min'], '.2f')} per 10 min; cue timing median "
                 f"{_fmt(total['cue_timing_median_ms'], '.0f')} ms, p95 {_fmt(total['cue_timing_p95_ms'], '.0f')} ms "
                 f"({total['cue_phrases']} phrases); song cues precision {_fmt(total['song_precision'], '.2f')} "
                 f"recall {_fmt(total['song_recall'], '.2f')}; language per passage {total['language_right']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.eval_film", description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="one short reel: proves the evaluation runs (make test)")
    parser.add_argument("--reels", default="", help="comma-separated reel names (default: all)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for every stage of every reel (repeatable), e.g. AUDIO_DIALOGUE=downmix")
    parser.add_argument("--tag", default="", help="names the jobs folder and the results file (default: smoke or all)")
    parser.add_argument("--jobs-dir", type=Path, default=None, help="jobs folder (default: bench/results/film/jobs-<tag>)")
    parser.add_argument("--keep-jobs", action="store_true",
                        help="rerun only what is stale in existing jobs (e.g. asr after a change) instead of fresh jobs")
    parser.add_argument("--measure-only", action="store_true", help="score the jobs as they are, run nothing")
    args = parser.parse_args(argv)
    settings = dict(s.split("=", 1) for s in args.set)
    tag = args.tag or ("smoke" if args.smoke else "all")
    reels = build_reels(CACHE, smoke=args.smoke)
    if args.reels:
        wanted = set(args.reels.split(","))
        unknown = wanted - {r.name for r in reels}
        if unknown:
            parser.error(f"unknown reel(s) {', '.join(sorted(unknown))}; known: {', '.join(r.name for r in reels)}")
        reels = [r for r in reels if r.name in wanted]
    jobs_dir = args.jobs_dir or CACHE / f"jobs-{tag}"
    rows = []
    for reel in reels:
        if args.measure_only:
            root, wall_s = jobs_dir / reel.name, 0.0
        else:
            root, wall_s = run_reel(reel, jobs_dir, settings, args.keep_jobs)
        row = measure(reel, _transcript(root), _cues(root))
        row["wall_s"] = round(wall_s, 1)
        rows.append(row)
        print(f"{reel.name}: {wall_s:.0f} s; hallucinated: {row['hallucinated_text'][:200] or '-'}", flush=True)
    total = summarize(rows)
    print(f"settings: {settings or 'defaults'}")
    print(report(rows, total))
    out = REPO_ROOT / "bench" / "results" / f"film-{tag}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"settings": settings, "total": total, "reels": rows}, indent=1, ensure_ascii=False))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
