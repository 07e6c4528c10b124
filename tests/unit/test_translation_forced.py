"""Which passages go to the forced track, and when there is none (stages/translation/forced.py)."""

from __future__ import annotations

import dataclasses

from shared import graph, schema
from shared.options import resolve
from shared.options.translation import TranslationOptions
from shared.stage import follow_links
from stages.translation import forced


def seg(text: str, language: str = "", probability: float = 0.0) -> schema.Segment:
    return schema.Segment(0.0, 1.0, text, (), language=language, language_probability=probability)


def transcript(*segments: schema.Segment, language: str = "en") -> schema.Transcript:
    return schema.Transcript(language, 0.9, 10.0, segments)


def test_only_sure_passages_in_another_language_with_text_are_foreign():
    record = transcript(seg(" Hello.", "en", 0.99), seg(" Guten Tag.", "de", 0.95), seg(" Bonjour.", "fr", 0.4),
                        seg("  ", "de", 0.9), seg(" Ciao.", "it", 0.5))
    assert forced.foreign(record) == [1, 4]
    assert forced.foreign(transcript(seg(" Guten Tag.", "de", 0.95), language="und")) == []


def test_why_there_is_no_forced_track():
    base = dataclasses.replace(TranslationOptions(), asr_model="base")
    languages = transcript(seg(" Guten Tag.", "de", 0.95))
    assert forced.why_none(base, languages) == ""
    assert forced.why_none(dataclasses.replace(base, forced="off"), languages) == forced.OFF_NOTE
    assert forced.why_none(dataclasses.replace(base, asr_model="tiny.en"), languages) == forced.ENGLISH_ONLY_NOTE
    assert forced.why_none(base, transcript(seg(" Hello."))) == forced.NO_LANGUAGES_NOTE


def test_a_multilingual_asr_model_switches_translation_on_without_targets():
    def off(environ):
        return graph.switched_off(lambda spec: follow_links(spec, resolve(spec.options, None, environ), None, environ))

    assert "translation" not in off({})  # auto, the default: a multilingual model may be chosen
    assert "translation" in off({"ASR_MODEL": "tiny.en"})  # no segment languages, nothing to do
    assert "translation" not in off({"ASR_MODEL": "base"})
    assert "translation" in off({"ASR_MODEL": "base", "SUBTITLE_FORCED": "off"})
    assert "translation" in off({"ASR_MODEL": "small.en"})
    assert "translation" not in off({"TARGET_LANGUAGES": "es"})


def test_the_summary_says_what_the_forced_track_holds():
    record = schema.Translation("en", (schema.TranslatedSegment(30.0, 45.5, "Jede Person", "Any person", "de", "translated"),))
    assert forced.summary(record, transcript(seg("a"), seg("b"))) == {
        "into": "en", "segments": 1, "of": 2, "speech_s_by_source_language": {"de": 15.5}}


def test_mt_models_take_each_segments_language_from_the_asr_when_it_recorded_one():
    from stages.translation.stage import Languages

    record = transcript(seg(" Hello.", "en", 0.99), seg(" Guten Tag.", "de", 0.95), seg(" Hm.", "fr", 0.2), seg(" Hi."))
    langs = Languages(TranslationOptions(), record)
    assert [langs.choose(i, "transformers")[0] for i in range(4)] == ["en", "de", "en", "en"]
    assert langs.choose(1, "transformers")[1] == {"language_from": "asr", "language_probability": 0.95}
    one = Languages(dataclasses.replace(TranslationOptions(), source_language="transcript"), record)
    assert one.choose(1, "transformers")[0] == "en"


def test_a_forced_track_no_model_here_can_make_is_left_empty_and_said(tmp_path, monkeypatch):
    """A German film with an English line, offline with no MT model into German: with
    TRANSLATION_MODEL=auto (the default) the job keeps its subtitles and the note says what to
    download; a model asked for by name that is not here still fails."""
    import pytest

    from shared.errors import ModelNotFound
    from shared.progress import no_progress
    from stages.translation.stage import make_forced

    monkeypatch.setenv("MODEL_CACHE", str(tmp_path / "empty-cache"))
    film = transcript(seg(" Guten Tag.", "de", 0.95), seg(" Wie geht es?", "de", 0.97), seg(" Hello there.", "en", 0.99),
                      language="de")
    options = dataclasses.replace(TranslationOptions(), asr_model="asr:auto")
    record, whisper, notes = make_forced({}, film, [[], [], []], [], options, None, "asr", "", no_progress)
    assert record.language == "de" and record.segments == () and whisper is None
    assert len(notes) == 1 and notes[0].startswith("no forced track: 1 passage(s) in another language than de, but "
                                                   "no translation model into de")
    assert "make models TRANSLATION_MODEL=" in notes[0] and record.producer.details["note"] == notes[0]
    with pytest.raises(ModelNotFound):
        make_forced({}, film, [[], [], []], [], dataclasses.replace(options, model="nllb-200-distilled-600M"),
                    None, "asr", "", no_progress)
