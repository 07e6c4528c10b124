"""The second pass: the stated criterion, the context window, and the stage run for real
on a tiny MT model: every choice recorded with its reason, the first pass never rewritten."""

from __future__ import annotations

import hashlib

import pytest

from shared import schema
from shared.options.second_pass_translation import SecondPassTranslationOptions
from shared.options.translation import TranslationOptions
from stages.second_pass_translation import judge
from stages.second_pass_translation.stage import NOTHING_NOTE, context_of
from stages.second_pass_translation.stage import run as second_run


def cand(text, score, kept=0, source="x" * 20):
    return judge.candidate(text, source, score, kept, 0.3, 3.0)


def test_glossary_compliance_decides_first():
    winner, reason = judge.choose(cand("a" * 20, -0.1, kept=1), cand("b" * 20, -2.0, kept=2), 2, 0.05)
    assert winner == "second" and reason.startswith("glossary compliance")
    winner, _ = judge.choose(cand("a" * 20, -2.0, kept=2), cand("b" * 20, -0.1, kept=1), 2, 0.05)
    assert winner == "first"


def test_then_a_plausible_length_then_the_score_with_a_margin():
    loop = "to understand, " * 20
    winner, reason = judge.choose(cand(loop, -0.1), cand("c" * 20, -1.0), 0, 0.05)
    assert winner == "second" and "repetition loop" in reason
    winner, reason = judge.choose(cand("a" * 20, -1.0), cand("b", -0.1), 0, 0.05)
    assert winner == "first" and "length ratio" in reason
    assert judge.choose(cand("a" * 20, -1.0), cand("b" * 20, -0.9), 0, 0.05)[0] == "second"
    winner, reason = judge.choose(cand("a" * 20, -1.0), cand("b" * 20, -0.97), 0, 0.05)
    assert winner == "first" and "less than 0.05" in reason
    assert judge.choose(cand("a" * 20, None), cand("b" * 20, None), 0, 0.05)[0] == "first"


def test_restore_respells_terms_in_the_second_candidate():
    text, records = judge.restore("vinsent hana llega", ["Vincent Hanna", "Kevlar"])
    assert text == "Vincent Hanna llega"
    assert [r["kept"] for r in records] == [True, False]


def seg(start, end, method="translated", language="de"):
    return schema.TranslatedSegment(start, end, "Quelle", "Ziel", language, method)


def test_context_is_the_previous_segments_of_the_same_language_within_a_scene():
    segments = [seg(0, 1), seg(1, 2), seg(2, 3, "source", "en"), seg(3, 4), seg(4, 5), seg(5, 6, "empty"), seg(6, 7),
                seg(40, 41)]
    assert context_of(segments, 1, 3) == [0]
    assert context_of(segments, 3, 3) == []  # an English line in between ends the context
    assert context_of(segments, 6, 3) == [3, 4]  # empty segments are passed over
    assert context_of(segments, 6, 1) == [4]
    assert context_of(segments, 7, 3) == []  # 33 s of silence: another scene


def test_nothing_to_refine_without_translations(tmp_path):
    schema.write(tmp_path / "manifest.json", schema.TranslationManifest(()))
    outputs = {"refined_translations": tmp_path / "out" / "manifest.json"}
    outputs["refined_translations"].parent.mkdir()
    report = second_run({"translations": tmp_path / "manifest.json", "audio": tmp_path / "none.wav"}, outputs,
                        SecondPassTranslationOptions())
    assert report.notes == [] and report.metrics == {"languages": 0}
    assert schema.load(outputs["refined_translations"], schema.TranslationManifest).producer.details["note"] == NOTHING_NOTE


def test_second_pass_on_a_tiny_mt_model_records_every_choice(tmp_path):
    pytest.importorskip("transformers")
    from stages.translation.stage import run as first_run
    from tests.unit.test_translation_mt import build_tiny_marian, write_job_inputs

    marian = build_tiny_marian(tmp_path / "marian")
    inputs = write_job_inputs(tmp_path)
    first_dir, second_dir = tmp_path / "translation", tmp_path / "second"
    first_dir.mkdir(), second_dir.mkdir()
    first_run(inputs, {"translations": first_dir / "manifest.json", "forced_translation": first_dir / "forced.json"},
              TranslationOptions(target_languages=("es",), model=str(marian), beam_size=2, device="cpu"))
    before = hashlib.sha256((first_dir / "es.json").read_bytes()).hexdigest()
    report = second_run({"translations": first_dir / "manifest.json", "audio": inputs["audio"]},
                        {"refined_translations": second_dir / "manifest.json"},
                        SecondPassTranslationOptions(context_segments=2, beam_size=2, device="cpu"))
    assert hashlib.sha256((first_dir / "es.json").read_bytes()).hexdigest() == before  # never rewritten
    first = schema.load(first_dir / "es.json", schema.Translation)
    refined = schema.load(second_dir / "es.json", schema.Translation)
    assert [(s.start_s, s.end_s, s.source_text) for s in refined.segments] == \
        [(s.start_s, s.end_s, s.source_text) for s in first.segments]
    for s in refined.segments:
        assert s.info["pass"] in ("first", "second") and s.info["reason"]
    with_context = [s for s in refined.segments if s.info.get("context_segments")]
    assert with_context, "the second and fourth segments have context"
    for s in with_context:
        assert s.info["first"]["score"] is not None and s.info["second"]["score"] is not None
        assert s.text == s.info[s.info["pass"]]["text"]
    assert refined.segments[0].info["reason"].startswith("no context")
    assert report.metrics["es"]["kept_first"] + report.metrics["es"]["kept_second"] == 3
