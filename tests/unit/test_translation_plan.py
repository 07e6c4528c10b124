"""TARGET_LANGUAGES and TRANSLATION_MODEL: which backend and model make each language."""

from __future__ import annotations

import pytest

from shared import graph
from shared.errors import InputError, ModelNotFound
from shared.options import resolve
from shared.options.translation import TranslationOptions
from stages.translation import languages, plan
from stages.translation.stage import model_identity


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)


def test_targets_are_checked_and_deduplicated():
    assert plan.check_targets(("EN", "es", "en", " ")) == ("en", "es")
    with pytest.raises(InputError, match="not a language code"):
        plan.check_targets(("english",))


def test_model_option_default_and_per_language():
    assert plan.model_specs("auto", ("en", "es")) == {"en": "auto", "es": "auto"}
    assert plan.model_specs("en=whisper, es=m2m100_418M", ("en", "es", "fr")) == \
        {"en": "whisper", "es": "m2m100_418M", "fr": "auto"}
    assert plan.model_specs("opus-mt,en=whisper", ("en", "de")) == {"en": "whisper", "de": "opus-mt"}
    with pytest.raises(InputError, match="default models"):
        plan.model_specs("a,b", ("en",))
    with pytest.raises(InputError, match="lang=model"):
        plan.model_specs("english=whisper", ("en",))


def test_whisper_only_into_english():
    assert plan.choose("en", "auto", "hi").backend == plan.WHISPER
    assert plan.choose("en", "whisper", "de").backend == plan.WHISPER
    with pytest.raises(InputError, match="into English only"):
        plan.choose("es", "whisper", "de")


def test_auto_into_another_language_needs_a_cached_model():
    with pytest.raises(ModelNotFound, match="no translation model into es"):
        plan.choose("es", "auto", "de")
    with pytest.raises(ModelNotFound, match="Helsinki-NLP/opus-mt-de-es"):
        plan.choose("es", "opus-mt", "de")


def test_a_cached_snapshot_and_a_folder_are_found(tmp_path):
    snapshot = tmp_path / "cache" / "huggingface" / "hub" / "models--facebook--m2m100_418M" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    choice = plan.choose("es", "auto", "de")
    assert choice.backend == "transformers" and choice.model.source == "cache" and choice.model.revision == "abc123"
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert plan.choose("fr", str(folder), "de").model.source == "local"


def test_no_targets_means_no_model_and_the_graph_switches_the_stage_off():
    assert model_identity(TranslationOptions()) == {}

    def options_of(spec):
        return resolve(spec.options, None, {})

    off = graph.switched_off(options_of)
    assert {"translation", "second-pass-translation"} <= off
    on = graph.switched_off(lambda spec: resolve(spec.options, None, {"TARGET_LANGUAGES": "en"}))
    assert "translation" not in on and "second-pass-translation" not in on


def test_language_codes_per_model_family():
    vocab = {t: i for i, t in enumerate(["eng_Latn", "spa_Latn", "zho_Hans", "zho_Hant", "de_DE", "en_XX", ">>spa<<"])}
    assert languages.nllb_code("es", vocab) == "spa_Latn"
    assert languages.nllb_code("zh", vocab) == "zho_Hans"
    assert languages.nllb_code("de", vocab) is None
    assert languages.mbart_code("de", vocab) == "de_DE"
    assert languages.marian_target_token("es", vocab) == ">>spa<<"
    assert languages.marian_target_token("fr", vocab) is None
