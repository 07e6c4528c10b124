"""ASR_MODEL=auto (stages/asr/model_choice.py): where it listens, how it weighs what it hears,
which model each language gets (resolved by shared.models.resolve_whisper's real code path, in
a model cache made for the test), and what follows ASR_MODEL elsewhere."""

from pathlib import Path

import pytest

from shared import graph, schema
from shared.models import resolve_whisper
from shared.options import resolve
from shared.stage import follow_links
from stages.asr import model_choice


def regions(*spans):
    return [schema.Region(a, b) for a, b in spans]


def test_windows_spread_over_the_speech_not_only_its_start():
    speech = regions(*((60.0 * i, 60.0 * i + 50.0) for i in range(20)))  # 1000 s of speech over 20 minutes
    found = model_choice.windows(speech)
    assert len(found) == model_choice.WINDOWS
    assert all(abs(w.speech_s - model_choice.WINDOW_S) < 1e-6 for w in found)
    starts = [w.regions[0].start_s for w in found]
    assert starts == sorted(starts) and starts[0] < 120 and starts[-1] > 1000  # the first and last minutes
    assert all(any(r.start_s <= x.start_s and x.end_s <= r.end_s for r in speech) for w in found for x in w.regions)


def test_short_speech_is_heard_whole():
    one = model_choice.windows(regions((2.0, 5.0), (7.0, 20.0)))
    assert [w.regions for w in one] == [tuple(regions((2.0, 5.0), (7.0, 20.0)))]
    two = model_choice.windows(regions((0.0, 45.0)))
    assert len(two) == 2 and sum(w.speech_s for w in two) == pytest.approx(45.0 + 15.0)  # 30 s each, overlapping
    assert model_choice.windows([]) == []


def test_probabilities_are_weighted_by_speech():
    # a 5 s German line is not the film's language when 20 s of English surround it
    assert model_choice.aggregate([(20.0, {"en": 0.9, "de": 0.1}), (5.0, {"de": 0.8, "en": 0.2})]) == \
        ("en", pytest.approx((20 * 0.9 + 5 * 0.2) / 25))
    assert model_choice.aggregate([(5.0, {"en": 0.9}), (20.0, {"de": 0.95, "en": 0.05})])[0] == "de"
    assert model_choice.aggregate([(30.0, {"fr": 0.6, "en": 0.4})]) == ("fr", pytest.approx(0.6))
    assert model_choice.aggregate([]) == ("und", 0.0)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty model cache, whose embedded folder is the real one (base's seeded copy: no 145 MB copy)."""
    real = resolve_whisper("base")  # seeds the real cache once when it must
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "embedded").symlink_to(Path(real.path).parent)
    monkeypatch.setenv("MODEL_CACHE", str(cache))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return cache


def cached(cache, repo):
    """A model in the cache as Hugging Face lays it out (what resolve_whisper looks for)."""
    folder = cache / "huggingface" / "hub" / ("models--" + repo.replace("/", "--"))
    (folder / "snapshots" / "abc123").mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("abc123")


@pytest.mark.parametrize(("heard", "model"), [
    ({"en": 0.93, "pt": 0.01}, "tiny.en"),
    ({"de": 0.99, "en": 0.01}, "base"),
    ({"fr": 0.7, "en": 0.3}, "base"),
])
def test_each_language_gets_its_model_embedded_when_nothing_is_cached(cache, heard, model):
    language, _ = model_choice.aggregate([(30.0, heard)])
    picked = model_choice.pick(language)
    assert (picked.name, picked.source) == (model, "embedded")


def test_a_film_half_in_english_gets_the_multilingual_model(cache):
    # multilingual.mp3 as heard: its English half, then its German half
    language, probability = model_choice.aggregate([(30.0, {"en": 0.997}), (30.0, {"de": 0.994, "en": 0.004})])
    assert language == "en" and probability < model_choice.ENGLISH_MIN_PROBABILITY
    assert model_choice.pick(model_choice.model_language(language, probability)).name == "base"
    assert model_choice.pick(model_choice.model_language("en", 0.93)).name == "tiny.en"  # jfk.flac as heard


def test_the_cache_comes_first_largest_model_first(cache):
    cached(cache, "Systran/faster-whisper-small.en")
    cached(cache, "Systran/faster-whisper-medium.en")
    cached(cache, "Systran/faster-whisper-small")
    english, german = model_choice.pick("en"), model_choice.pick("de")
    assert (english.name, english.source, english.revision) == ("medium.en", "cache", "abc123")
    assert (german.name, german.source) == ("small", "cache")
    assert model_choice.pick("en", "translate").name == "small"  # speech translation needs a multilingual model


def test_the_lock_covers_the_detection_model_and_both_picks_without_listening(cache):
    before = model_choice.identity()
    assert before["detection"]["name"] == "base"
    assert (before["english"]["name"], before["other"]["name"]) == ("tiny.en", "base")
    cached(cache, "Systran/faster-whisper-small")  # a better pick for German appears: asr is stale
    after = model_choice.identity()
    assert after["other"]["name"] == "small" and after != before


def test_auto_names_no_one_model():
    from shared.errors import ModelNotFound

    with pytest.raises(ModelNotFound, match="film's language"):
        resolve_whisper("auto")


def test_what_follows_asr_model_knows_auto_may_be_either():
    from stages.pre_ner.stage import tokenizer_model

    environ = {"ASR_MODEL": "auto"}
    pre_ner = follow_links(graph.stage("pre-ner"), resolve(graph.stage("pre-ner").options, None, environ), None, environ)
    assert pre_ner.tokenizer_model == "asr:auto"
    assert tokenizer_model(pre_ner).name == "base"  # the multilingual tokenizer: never counts fewer tokens

    def off(environ):
        return graph.switched_off(lambda spec: follow_links(spec, resolve(spec.options, None, environ), None, environ))

    assert "translation" not in off(environ)  # German may be chosen: the forced track may be needed
    assert "translation" in off({**environ, "SUBTITLE_FORCED": "off"})
    assert "translation" not in off({})  # auto is the default
    assert "translation" in off({"ASR_MODEL": "tiny.en"})  # English-only: no foreign passages to find


def test_a_service_started_with_auto_passes_it_on(monkeypatch):
    from host.service.request import JobRequest

    monkeypatch.setenv("ASR_MODEL", "auto")  # a request's language then picks without listening
    assert JobRequest(language="de").model == "auto"
    assert JobRequest(task="translate").model == "auto"
    assert "--asr-model" in (args := JobRequest().runner_args()) and args[args.index("--asr-model") + 1] == "auto"
