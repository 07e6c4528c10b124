"""Per-segment languages and the main language (stages/asr/languages.py)."""

from __future__ import annotations

from shared import schema
from stages.asr import languages


def seg(start_s: float, end_s: float, language: str = "", probability: float = 0.0) -> schema.Segment:
    return schema.Segment(start_s, end_s, " words", (), language=language, language_probability=probability)


def test_the_main_language_is_the_one_with_most_speech_time_not_most_segments():
    segments = [seg(0, 2, "de", 0.9), seg(2, 4, "de", 0.9), seg(4, 5, "de", 0.9), seg(5, 30, "en", 0.99)]
    assert languages.main_language(segments, "de") == "en"
    assert languages.speech_by_language(segments, "de") == {"en": 25.0, "de": 5.0}


def test_an_unsure_segment_counts_for_the_language_the_film_was_decoded_in():
    segments = [seg(0, 10, "de", 0.3), seg(10, 16, "fr", 0.8)]
    assert languages.speech_by_language(segments, "en") == {"en": 10.0, "fr": 6.0}
    assert languages.main_language(segments, "en") == "en"
    assert languages.main_language([], "und") == "und"


def test_with_languages_records_each_segments_language_and_the_transcript_keeps_it():
    segments = languages.with_languages([seg(0, 1), seg(1, 2)], [("en", 0.97), ("de", 0.88)])
    transcript = schema.Transcript("en", 0.97, 2.0, tuple(segments))
    back = schema.Transcript.from_json(transcript.to_json())
    assert [(s.language, s.language_probability) for s in back.segments] == [("en", 0.97), ("de", 0.88)]
    plain = schema.Transcript("en", 0.9, 1.0, (seg(0, 1),)).to_json()
    assert "language" not in plain["segments"][0]  # an English-only model's transcript is unchanged
