"""The translation stages on real audio: Whisper speech translation of the German half of
multilingual.mp3 (the embedded multilingual base model), the glossary's spelling in its
English, the second pass over it, and a real MT model from the cache when there is one."""

from __future__ import annotations

import pytest

from bench.metrics import normalize_text
from host.jobs import create_job
from shared import graph, schema
from shared.errors import ModelNotFound
from shared.models import resolve_mt_model
from tests.conftest import make_media, run_stage

pytestmark = pytest.mark.integration

# multilingual.mp3: the MIT licence's grant in English (0-29 s), then in German (29-60 s)
ENGLISH = ((0.0, 4.96, " Permission is hereby granted, free of charge, to any person obtaining a copy of this software"),
           (4.96, 8.88, " and associated documentation files to deal in the software without restriction,"))
GERMAN = ((29.0, 37.52, " Jedem, der eine Kopie dieser Software und der zugehörigen Dokumentationsdateien erhält, wird unentgeltlich"),
          (37.52, 41.36, " die Erlaubnis erteilt, mit der Software uneingeschränkt zu verfahren."),
          (41.36, 47.8, " Dies umfasst insbesondere das Recht, die Software zu verwenden, zu vervielfältigen, zu"),
          (47.8, 54.04, " modifizieren, zusammenzufügen, zu veröffentlichen, zu verteilen, unterzulizenzieren und oder"),
          (54.04, 59.48, " Kopien der Software zu verkaufen und diese Rechte unter folgenden Bedingungen anderen zu übertragen."))
# words of the English reference that a translation of the German half should bring back
KEY_WORDS = ("software", "documentation", "copy", "copies", "right", "rights", "use", "modify", "distribute",
             "sell", "license", "sublicense", "publish", "conditions", "permission", "free")


def only(*stages: str) -> dict[str, str]:
    """SKIP_STAGES switching off every optional stage but ``stages``."""
    return {"SKIP_STAGES": ",".join(s.name for s in graph.STAGES if s.skippable and s.name not in stages)}


@pytest.fixture
def job(eval_data, jobs_dir):
    """multilingual.mp3 with demux's audio and a transcript written by hand (the ASR's German is not under test)."""
    source = eval_data / "multilingual.mp3"
    job = create_job(source, jobs_dir=jobs_dir)
    (job.root / "demux").mkdir()
    make_media(job.root / "demux" / "audio.wav", "-i", str(source), "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le")
    (job.root / "asr").mkdir()
    segments = tuple(schema.Segment(a, b, text) for a, b, text in (*ENGLISH, *GERMAN))
    schema.write(job.root / "asr" / "transcript.json", schema.Transcript("en", 0.9, 59.9, segments))
    return job


def translation_of(job, stage="translation", language="en") -> schema.Translation:
    return schema.load(job.root / stage / f"{language}.json", schema.Translation)


def key_words_in(text: str) -> set[str]:
    return set(normalize_text(text).split()) & set(KEY_WORDS)


def test_whisper_translates_the_german_half_into_english(job, jobs_dir):
    result = run_stage("translation", job.id, jobs_dir, TARGET_LANGUAGES="en", **only("translation"))
    assert result.returncode == 0, result.stderr
    english = translation_of(job)
    assert [(s.start_s, s.end_s, s.source_text) for s in english.segments] == \
        [(a, b, text) for a, b, text in (*ENGLISH, *GERMAN)]
    assert [s.method for s in english.segments] == ["source"] * 2 + ["translated"] * 5
    assert [s.source_language for s in english.segments] == ["en"] * 2 + ["de"] * 5  # each segment's own language
    german_half = " ".join(s.text for s in english.segments[2:])
    found = key_words_in(german_half)
    assert len(found) >= 6, (found, german_half)
    assert english.producer.backend == "whisper" and english.producer.model["source"] == "embedded"


def test_glossary_spelling_reaches_whispers_english(job, jobs_dir):
    (job.root / "glossary.tsv").write_text("term\tpreferred\taliases\tnote\nsoftware\tSoftware\t\tthe licence's defined term\n")
    result = run_stage("translation", job.id, jobs_dir, TARGET_LANGUAGES="en", **only("translation"))
    assert result.returncode == 0, result.stderr
    english = translation_of(job)
    assert english.producer.details["prompt"] == "Names: Software."
    for seg in english.segments[2:]:
        if seg.terms:
            assert all(r["kept"] for r in seg.terms), seg
            assert "software" not in seg.text and "Software" in seg.text


def test_second_pass_refines_with_context_and_says_why(job, jobs_dir):
    first = run_stage("translation", job.id, jobs_dir, TARGET_LANGUAGES="en", **only("translation"))
    assert first.returncode == 0, first.stderr
    before = (job.root / "translation" / "en.json").read_bytes()
    second = run_stage("second-pass-translation", job.id, jobs_dir, TARGET_LANGUAGES="en",
                       **only("translation", "second-pass-translation"))
    assert second.returncode == 0, second.stderr
    assert (job.root / "translation" / "en.json").read_bytes() == before
    refined = translation_of(job, "second-pass-translation")
    reasons = [s.info["reason"] for s in refined.segments]
    assert all(reasons)
    assert reasons[2].startswith("no context")  # the first German segment: its predecessors are English
    for seg in refined.segments[3:]:
        assert seg.info["pass"] in ("first", "second")
        assert seg.info["first"]["score"] is not None and seg.info["second"]["score"] is not None
    assert len(key_words_in(" ".join(s.text for s in refined.segments[2:]))) >= 6


REAL_MODELS = ("nllb-200-distilled-600M", "nllb-200-distilled-1.3B", "m2m100_418M", "opus-mt-de-en")


def test_a_real_mt_model_from_the_cache(job, jobs_dir):
    found = []
    for name in REAL_MODELS:
        try:
            found.append(resolve_mt_model(name).name)
        except ModelNotFound:
            continue
    if not found:
        pytest.skip(f"no MT model in the model cache ({', '.join(REAL_MODELS)}): none can be downloaded here; "
                    "with network: make models TRANSLATION_MODEL=nllb-200-distilled-600M")
    result = run_stage("translation", job.id, jobs_dir, TARGET_LANGUAGES="en", TRANSLATION_MODEL=found[0],
                       TRANSLATION_SOURCE_LANGUAGE="detect", **only("translation"))
    assert result.returncode == 0, result.stderr
    english = translation_of(job)
    assert english.producer.backend == "transformers"
    assert len(key_words_in(" ".join(s.text for s in english.segments[2:]))) >= 6


def test_no_targets_is_refused_with_the_setting_to_change(job, jobs_dir):
    """Without TARGET_LANGUAGES the stage has nothing to do: the runner skips it visibly,
    and run alone it says which setting switches it on."""
    result = run_stage("translation", job.id, jobs_dir, **only("translation"), ASR_MODEL="tiny.en")  # no forced track
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: translation: stage translation has nothing to do with these settings (set TARGET_LANGUAGES "
        "(or, for the forced track, a multilingual ASR_MODEL with SUBTITLE_FORCED=auto) to run it)")
    assert not (job.root / "translation" / "manifest.json").exists()
