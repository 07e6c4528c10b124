import jiwer
import pytest

from bench.metrics import normalize_text, word_error_rate


def test_normalization_ignores_case_and_punctuation():
    assert normalize_text("And so, my fellow Americans!") == "and so my fellow americans"


@pytest.mark.parametrize("ref, hyp", [("a b c d", "a x c"), ("the cat sat", "the cat sat on"), ("one two", "")])
def test_wer_agrees_with_jiwer(ref, hyp):
    assert word_error_rate(ref, hyp) == pytest.approx(jiwer.wer(ref, hyp) if hyp else 1.0)
