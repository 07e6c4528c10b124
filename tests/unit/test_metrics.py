import jiwer
import pytest

from bench.metrics import diarization_error_rate, normalize_text, word_error_rate
from shared.speakers import Turn


def test_normalization_ignores_case_and_punctuation():
    assert normalize_text("And so, my fellow Americans!") == "and so my fellow americans"


@pytest.mark.parametrize("ref, hyp", [("a b c d", "a x c"), ("the cat sat", "the cat sat on"), ("one two", "")])
def test_wer_agrees_with_jiwer(ref, hyp):
    assert word_error_rate(ref, hyp) == pytest.approx(jiwer.wer(ref, hyp) if hyp else 1.0)


@pytest.mark.parametrize("ref, hyp", [("ten times", "10 times"), ("the colour grey", "the color gray"),
                                      ("Mr. Smith, um, left", "mister smith left")])
def test_wer_normalizes_as_whisper_does(ref, hyp):
    """Numbers, spelling variants, titles and fillers are not counted as errors."""
    assert word_error_rate(ref, hyp) == 0.0


def test_wer_of_empty_texts():
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("", "words") == 1.0


REFERENCE = [Turn(0.0, 4.0, "alice"), Turn(4.0, 10.0, "bob")]


@pytest.mark.parametrize("hypothesis, der, part", [
    ([Turn(0.0, 4.0, "A"), Turn(4.0, 10.0, "B")], 0.0, None),  # labels mapped, not compared
    ([Turn(0.0, 4.0, "A")], 0.6, "missed"),  # bob's 6 s not found
    ([Turn(0.0, 4.0, "A"), Turn(4.0, 10.0, "B"), Turn(10.0, 12.0, "B")], 0.2, "false_alarm"),
    ([Turn(0.0, 10.0, "A")], 0.4, "confusion"),  # one found for both: A is bob, alice's 4 s confused
])
def test_der_by_pyannote_metrics(hypothesis, der, part):
    result = diarization_error_rate(REFERENCE, hypothesis)
    assert result["der"] == pytest.approx(der)
    assert result["reference_speech_s"] == pytest.approx(10.0)
    if part:
        assert result[part] == pytest.approx(der)
    assert result["der"] == pytest.approx(result["missed"] + result["false_alarm"] + result["confusion"])


def test_der_maps_hypothesis_speakers_onto_reference_speakers():
    result = diarization_error_rate(REFERENCE, [Turn(0.0, 4.0, "SPEAKER_01"), Turn(4.0, 10.0, "SPEAKER_00")])
    assert result["mapping"] == {"SPEAKER_01": "alice", "SPEAKER_00": "bob"}
