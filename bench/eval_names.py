"""Names: how many known names come out spelled right, and how many corrections are wrong.

    python -m bench.eval_names [--keep DIR] [--smoke]

Every case runs the real stages through the native runner on a job made with
``create_job(metadata=..., glossary=...)``:

* ``sample``: ``../shared/eval-data/sample.wav`` with cast Diane and Sheila and
  places New Jersey, Texas, Chicago; pre-ner, asr, post-ner. Reference: sample.stm.
* ``story-plain``: a flite fixture (two voices) full of invented names the ASR
  misspells; the ASR gets no names (pre-ner switched off), post-ner corrects:
  what correction alone does.
* ``story-full``: the same fixture with pre-ner's prompt, then post-ner.
* ``story-none``: the fixture with no metadata: post-ner must change nothing.
* ``cross-other-speech``: the fixture's names given to other speech that holds
  none of them (every English eval clip and bench.audio_fixtures' flite
  sentences, about 90 s): any such name in the output is false.
* ``common-names``: text only, 270 sentences with ordinary first names and
  cities, post-ner given the sample's cast and places: any change is false.
  ``common-names-invented``: the same given the fixture's invented cast; the
  ordinary names it changes (Katherine -> Katrine) are printed, not counted.

Measures, per case: name recall of the asr transcript and of post-ner's (a
reference name counts when the output has it, spelled exactly, aligned to the
same place in the reference), corrections, false corrections (a correction
whose words do not align with the same words in the reference), WER before
and after. Results go to ``bench/results/eval_names.json``. Prints FAIL beside
a number that misses its target; exits non-zero only when a case cannot run.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
EVAL_DATA = REPO_ROOT.parent / "shared" / "eval-data"
RESULT_JSON = REPO_ROOT / "bench" / "results" / "eval_names.json"

SAMPLE_METADATA = {
    "title": "A phone call", "language": "en",
    "cast": [{"actor": "", "character": "Diane"}, {"actor": "", "character": "Sheila"}],
    "places": ["New Jersey", "Texas", "Chicago"],
}

# The fixture: invented names, spoken by flite's two real voices.
STORY_SENTENCES = (
    ("slt", "Maribeth, have you seen the map of Kesmareth?"),
    ("slt", "The Halvarine bridge was closed last winter."),
    ("slt", "I think Katrine is hiding in Drellmoor with Teodric."),
    ("slt", "Doctor Oskeyne flew to Tarvania yesterday."),
    ("slt", "Ask Jaxxon about the Zyntrex engine."),
    ("slt", "We walked along the Mirrow river until dark."),
    ("rms", "Sergeant Pellwick searched the docks at Ostravel."),
    ("rms", "Nobody had heard from Quillon since the storm."),
    ("rms", "Ysolde keeps the keys to the Varneholm archive."),
    ("rms", "Bring the Corvessa charts to Maribeth before noon."),
)
STORY_METADATA = {
    "title": "The Varneholm Charts", "language": "en",
    "synopsis": "Maribeth and Katrine search Tarvania for Teodric, while Sergeant Pellwick watches the docks of Ostravel.",
    "cast": [{"actor": "Ann Lee", "character": "Maribeth"}, {"actor": "Joan Park", "character": "Katrine"},
             {"actor": "Tom Hale", "character": "Teodric"}, {"actor": "Bob Kane", "character": "Jaxxon"},
             {"actor": "Sam Ruiz", "character": "Doctor Oskeyne"}, {"actor": "Eve Ward", "character": "Sergeant Pellwick"},
             {"actor": "Lin Cho", "character": "Quillon"}, {"actor": "Ada Moss", "character": "Ysolde"}],
    "places": ["Kesmareth", "Halvarine", "Drellmoor", "Tarvania", "Mirrow", "Ostravel", "Varneholm"],
    "terms": ["Zyntrex", "Corvessa"],
}
STORY_NAMES = ("Maribeth", "Kesmareth", "Halvarine", "Katrine", "Drellmoor", "Teodric", "Oskeyne", "Tarvania",
               "Jaxxon", "Zyntrex", "Mirrow", "Pellwick", "Ostravel", "Quillon", "Ysolde", "Varneholm", "Corvessa")
SAMPLE_NAMES = ("Diane", "Sheila", "New Jersey", "Texas", "Chicago")

# Ordinary names and places (none of them in either cast), in template sentences, for a text-only
# check of what post-ner does to names it was not told about.
COMMON_NAMES = tuple("""
James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph
Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Margaret Mark Sandra
Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Dorothy
George Melissa Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob
Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Stephen Brenda Larry Pamela Justin Emma Scott
Nicole Brandon Helen Benjamin Samantha Samuel Katherine Gregory Christine Alexander Debra Frank Rachel Patrick
Carolyn Raymond Janet Jack Catherine Dennis Maria Jerry Heather Tyler Diana Aaron Ruth Jose Julie Adam Olivia
Nathan Joyce Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren Kyle Christina Ethan Joan Walter
Evelyn Noah Judith Jeremy Megan Christian Andrea Keith Cheryl Roger Hannah Terry Jacqueline Gerald Martha
Harold Gloria Sean Teresa Austin Ann Carl Sara Arthur Madison Lawrence Frances Dylan Kathryn Jesse Janice
Jordan Jean Bryan Abigail Billy Alice Joe Judy Bruce Sophia Gabriel Grace Logan Denise Albert Amber Willie
Doris Alan Marilyn Juan Danielle Wayne Beverly Elijah Isabella Randy Theresa Roy Diane Vincent Natalie Ralph
Brittany Eugene Charlotte Russell Marie Bobby Kayla Mason Alexis Philip Lori Louis Sheila Marybeth Katrina
Teddy Jackson Oscar Pelham Quinn Isolde Corvette Astrid Mirror Tarrant
""".split())
COMMON_PLACES = tuple("""
London Paris Berlin Madrid Rome Vienna Prague Warsaw Dublin Lisbon Boston Denver Dallas Houston Phoenix
Seattle Portland Atlanta Miami Orlando Detroit Cleveland Memphis Nashville Austin Tucson Fresno Omaha Tulsa
Newark Jersey Chicagoland Texarkana Trenton Kentucky Tennessee Kansas Nevada Oregon Georgia Virginia Carolina
Montana Dakota Oslo Stockholm Helsinki Tallinn Riga Kesswick Tarragona Drummond Halifax Varna Ostrava Cordova
Marrakesh Kingston
""".split())

TARGETS = {"sample_recall": 1.0, "story_recall_gain": 0.2, "false_corrections": 0}


SMOKE_SENTENCES = 3  # --smoke: the fixture's first sentences, the story cases only


def story_text(sentences: Sequence[tuple[str, str]] = STORY_SENTENCES) -> str:
    return " ".join(text for _, text in sentences)


def make_story(folder: Path, sentences: Sequence[tuple[str, str]] = STORY_SENTENCES) -> Path:
    """The fixture WAV (16 kHz mono): each sentence by flite, 0.6 s of silence between."""
    if shutil.which("flite") is None or shutil.which("ffmpeg") is None:
        raise RuntimeError("flite and ffmpeg are needed for the names fixture (apt-get install flite ffmpeg)")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "names_story.wav"
    if target.is_file():
        return target
    parts = []
    for k, (voice, text) in enumerate(sentences):
        part = folder / f"part{k:02d}.wav"
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(part)], check=True, timeout=60)
        parts.append(part)
    inputs, filters = [], []
    for k, part in enumerate(parts):
        inputs += ["-i", str(part)]
        filters.append(f"[{k}:a]aresample=16000,apad=pad_dur=0.6[a{k}]")
    graph = ";".join(filters) + ";" + "".join(f"[a{k}]" for k in range(len(parts))) + f"concat=n={len(parts)}:v=0:a=1[out]"
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *inputs, "-filter_complex", graph,
                    "-map", "[out]", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(target)], check=True, timeout=120)
    for part in parts:
        part.unlink()
    return target


def sample_reference() -> str:
    lines = (EVAL_DATA / "sample.stm").read_text().splitlines()
    return " ".join(line.split(maxsplit=5)[5] for line in lines if len(line.split(maxsplit=5)) == 6)


# --- scoring ---------------------------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, str]]:
    """(normalized, as written) per word: punctuation and a possessive stripped."""
    out = []
    for raw in text.replace("-", " ").split():
        core = re.sub(r"^[^\w]+|(['’]s)?[^\w]*$", "", raw)
        if core:
            out.append((core.casefold(), core))
    return out


def _aligned(reference: str, output: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict[int, int]]:
    """Reference and output tokens, and which reference token each exactly-aligned output token matches."""
    ref, out = _tokens(reference), _tokens(output)
    matcher = difflib.SequenceMatcher(a=[r[0] for r in ref], b=[o[0] for o in out], autojunk=False)
    pairs = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            pairs[block.b + k] = block.a + k
    return ref, out, pairs


def name_recall(reference: str, output: str, names: Sequence[str]) -> tuple[int, int, list[str]]:
    """(found, total, missed): reference name occurrences the output spells exactly at the same place."""
    ref, out, pairs = _aligned(reference, output)
    back = {a: b for b, a in pairs.items()}
    found, total, missed = 0, 0, []
    for name in names:
        parts = [p for p in name.split()]
        for i in range(len(ref) - len(parts) + 1):
            if [r[1] for r in ref[i:i + len(parts)]] != parts:
                continue
            total += 1
            js = [back.get(i + k) for k in range(len(parts))]
            if all(j is not None and out[j][1] == p for j, p in zip(js, parts)):
                found += 1
            else:
                missed.append(name)
    return found, total, missed


def false_corrections(reference: str, corrected_text: str, corrections: Sequence[dict]) -> list[dict]:
    """Corrections whose new words do not align with the same words in the reference."""
    if not corrections:
        return []
    ref, out, pairs = _aligned(reference, corrected_text)
    wrong, used = [], set()
    for c in corrections:
        parts = [t[1] for t in _tokens(c["corrected"])]
        hit = None
        for j in range(len(out) - len(parts) + 1):
            if j in used or [o[1] for o in out[j:j + len(parts)]] != parts:
                continue
            if all(j + k in pairs and ref[pairs[j + k]][1] == p for k, p in enumerate(parts)):
                hit = j
                break
        if hit is None:
            wrong.append(c)
        else:
            used.add(hit)
    return wrong


def common_names_transcript():
    """One sentence per ordinary name, "Yesterday <name> told me about the trip to <place>, and we laughed.",
    as an ASR transcript (sure words, 0.35 s apart)."""
    from shared import schema

    segments, t = [], 0.0
    for i, name in enumerate(COMMON_NAMES + COMMON_PLACES):
        words = []
        for w in f"Yesterday {name} told me about the trip to {COMMON_PLACES[i % len(COMMON_PLACES)]}, and we laughed.".split():
            words.append(schema.Word(round(t, 3), round(t + 0.3, 3), " " + w, 0.9))
            t += 0.35
        segments.append(schema.Segment(words[0].start_s, words[-1].end_s, "".join(w.text for w in words), tuple(words)))
    return schema.Transcript("en", 1.0, round(t, 3), tuple(segments), {"stage": "asr"})


def common_names_changes(metadata: dict) -> list[dict]:
    """post-ner's corrections on :func:`common_names_transcript` given ``metadata``'s names (in process)."""
    import spacy

    from shared.metadata import parse_metadata
    from shared.models import resolve_spacy
    from shared.options.post_ner import PostNerOptions
    from stages.post_ner.lexicon import from_metadata
    from stages.post_ner.match import correct

    nlp = spacy.load(resolve_spacy("en").path)
    o = PostNerOptions()
    return correct(common_names_transcript(), from_metadata(parse_metadata(metadata), ()), nlp, nlp.Defaults.stop_words,
                   o.min_score, o.max_ngram_words, o.low_probability).corrections


# --- running the stages ---------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    recall_asr: tuple[int, int] = (0, 0)
    recall_final: tuple[int, int] = (0, 0)
    missed: list[str] = field(default_factory=list)
    corrections: int = 0
    false: list[dict] = field(default_factory=list)
    wer_asr: float = 0.0
    wer_final: float = 0.0
    prompt_tokens: int | None = None
    text_asr: str = ""
    text_final: str = ""


def run_job(media: Path, jobs_dir: Path, job_id: str, metadata: dict | None, skip: str = "",
            until: str = "post-ner") -> Path:
    """Create the job (metadata copied in) and run the runner on it up to ``until``; its folder."""
    from host.jobs import create_job

    meta_path = None
    if metadata is not None:
        meta_path = jobs_dir.parent / "inputs" / f"{job_id}.metadata.json"
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        meta_path.write_text(json.dumps(metadata))
    jobs_dir.mkdir(parents=True, exist_ok=True)
    job = create_job(media, jobs_dir=jobs_dir, job_id=job_id, metadata=meta_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASR_", "PRE_NER_", "POST_NER_", "VAD_"))}
    # only the stages names go through: every other optional stage (diarization, translation, ...) is switched off
    from shared import graph

    others = [s.name for s in graph.STAGES if s.skippable and s.name not in ("pre-ner", "post-ner")]
    env.update({"SKIP_STAGES": ",".join(filter(None, [skip, *others])), "PYTHONPATH": str(REPO_ROOT),
                "LOG_LEVEL": "WARNING"})
    proc = subprocess.run([sys.executable, "-m", "host.runner", str(media), "--jobs-dir", str(jobs_dir),
                           "--job-id", job_id, "--until", until], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{job_id}: the runner failed: {proc.stderr.strip().splitlines()[-1:]}")
    return job.root


def _text(path: Path) -> str:
    data = json.loads(path.read_text())
    return " ".join(s["text"].strip() for s in data["segments"]).strip()


def measure(name: str, root: Path, reference: str, names: Sequence[str]) -> Case:
    from bench.metrics import word_error_rate

    asr_text = _text(root / "asr" / "transcript.json")
    final_text = _text(root / "post-ner" / "transcript.json")
    corrections = json.loads((root / "post-ner" / "corrections.json").read_text())["corrections"]
    found_a, total, _ = name_recall(reference, asr_text, names)
    found_f, _, missed = name_recall(reference, final_text, names)
    prompt = root / "pre-ner" / "prompt.json"
    return Case(name, (found_a, total), (found_f, total), missed, len(corrections),
                false_corrections(reference, final_text, corrections),
                round(word_error_rate(reference, asr_text), 4), round(word_error_rate(reference, final_text), 4),
                json.loads(prompt.read_text())["tokens"]["total"] if prompt.is_file() else None, asr_text, final_text)


def measure_cross(name: str, root: Path, names: Sequence[str]) -> Case:
    """A clip that contains none of ``names``: every one in the output, and every correction, is false."""
    final_text = _text(root / "post-ner" / "transcript.json")
    corrections = json.loads((root / "post-ner" / "corrections.json").read_text())["corrections"]
    appeared = [n for n in names if re.search(rf"\b{re.escape(n)}\b", final_text)]
    false = corrections + [{"original": "(asr output)", "corrected": n} for n in appeared
                           if not any(c["corrected"] == n for c in corrections)]
    return Case(name, corrections=len(corrections), false=false, text_asr=_text(root / "asr" / "transcript.json"),
                text_final=final_text)


def run_all(work: Path, smoke: bool = False) -> list[Case]:
    jobs = work / "jobs"
    sentences = STORY_SENTENCES[:SMOKE_SENTENCES] if smoke else STORY_SENTENCES
    story, text = make_story(work, sentences), story_text(sentences)
    cases = [
        measure("story-plain", run_job(story, jobs, "story-plain", STORY_METADATA, skip="pre-ner"), text, STORY_NAMES),
        measure("story-full", run_job(story, jobs, "story-full", STORY_METADATA), text, STORY_NAMES),
        measure("story-none", run_job(story, jobs, "story-none", None), text, STORY_NAMES),
    ]
    if smoke:
        return cases
    sample = run_job(EVAL_DATA / "sample.wav", jobs, "sample", SAMPLE_METADATA)
    cases.insert(0, measure("sample", sample, sample_reference(), SAMPLE_NAMES))
    from bench.audio_fixtures import speech_wav

    other, _ = speech_wav(30.0, cache=work / "cache")  # every English eval clip and flite's sentences, once each
    cases.append(measure_cross("cross-other-speech", run_job(other, jobs, "cross", STORY_METADATA), STORY_NAMES))
    text = " ".join(s.text.strip() for s in common_names_transcript().segments)
    changes = common_names_changes(SAMPLE_METADATA)  # real names: any change is false
    cases.append(Case("common-names", corrections=len(changes), false=changes, text_asr=text))
    changes = common_names_changes(STORY_METADATA)  # invented names: other spellings of them are fair, not counted
    cases.append(Case("common-names-invented", corrections=len(changes), text_asr=text,
                      text_final="; ".join(f"{c['original']}->{c['corrected']}" for c in changes)))
    return cases


def report(cases: Sequence[Case]) -> dict[str, Any]:
    by = {c.name: c for c in cases}
    sample, plain, full, none = by.get("sample"), by["story-plain"], by["story-full"], by["story-none"]
    ratio = lambda r: r[0] / r[1] if r[1] else 1.0  # noqa: E731
    false_total = sum(len(c.false) for c in cases)
    summary = {
        "sample_recall": ratio(sample.recall_final) if sample else None,
        "story_plain_recall_asr": ratio(plain.recall_asr), "story_plain_recall": ratio(plain.recall_final),
        "story_full_recall_asr": ratio(full.recall_asr), "story_full_recall": ratio(full.recall_final),
        "story_recall_gain": ratio(plain.recall_final) - ratio(plain.recall_asr),
        "story_none_changes": none.corrections + int(none.text_final != none.text_asr),
        "corrections": sum(c.corrections for c in cases if c.name != "common-names-invented"),
        "false_corrections": false_total,
    }
    print(f"{'case':<22}{'names asr':>11}{'names out':>11}{'fixes':>7}{'false':>7}{'WER asr':>9}{'WER out':>9}")
    for c in cases:
        r_a = f"{c.recall_asr[0]}/{c.recall_asr[1]}" if c.recall_asr[1] else "-"
        r_f = f"{c.recall_final[0]}/{c.recall_final[1]}" if c.recall_final[1] else "-"
        wer = (f"{c.wer_asr:>9.3f}{c.wer_final:>9.3f}") if c.recall_asr[1] else f"{'-':>9}{'-':>9}"
        print(f"{c.name:<22}{r_a:>11}{r_f:>11}{c.corrections:>7}{len(c.false):>7}{wer}")
        for f in c.false:
            print(f"    false: {f.get('original')!r} -> {f.get('corrected')!r}")
        if c.missed:
            print(f"    still misspelled: {', '.join(c.missed)}")
    verdict = lambda ok: "ok" if ok else "FAIL"  # noqa: E731
    if sample is not None:
        print(f"\nname recall, sample.wav (target {TARGETS['sample_recall']:.0%}): {summary['sample_recall']:.0%} "
              f"{verdict(summary['sample_recall'] >= TARGETS['sample_recall'])}")
    print(f"name recall, invented names, ASR without names: {summary['story_plain_recall_asr']:.0%} -> post-ner "
          f"{summary['story_plain_recall']:.0%} (gain target {TARGETS['story_recall_gain']:.0%}) "
          f"{verdict(summary['story_recall_gain'] >= TARGETS['story_recall_gain'])}")
    print(f"name recall, invented names, ASR prompted by pre-ner: {summary['story_full_recall_asr']:.0%} -> post-ner "
          f"{summary['story_full_recall']:.0%}")
    print(f"changes with no metadata: {summary['story_none_changes']} {verdict(summary['story_none_changes'] == 0)}")
    invented = by.get("common-names-invented")
    if invented is not None:
        print(f"ordinary names changed to an invented cast name (not counted as false): {invented.corrections} "
              f"of {len(COMMON_NAMES) + len(COMMON_PLACES)}: {invented.text_final}")
    print(f"false corrections: {false_total} of {summary['corrections']} corrections (target 0) "
          f"{verdict(false_total <= TARGETS['false_corrections'])}")
    return {"summary": summary, "targets": TARGETS, "cases": [asdict(c) for c in cases]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.eval_names", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep the jobs")
    parser.add_argument("--smoke", action="store_true",
                        help=f"the story cases on the fixture's first {SMOKE_SENTENCES} sentences only: checks the bench runs")
    args = parser.parse_args(argv)
    if not (EVAL_DATA / "sample.wav").is_file():
        print(f"error: eval data not found at {EVAL_DATA}", file=sys.stderr)
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="eval_names-"))
    try:
        cases = run_all(work, smoke=args.smoke)
    except (RuntimeError, subprocess.SubprocessError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    result = report(cases)
    if args.smoke:
        return 0
    RESULT_JSON.parent.mkdir(parents=True, exist_ok=True)
    RESULT_JSON.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results: {RESULT_JSON.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
