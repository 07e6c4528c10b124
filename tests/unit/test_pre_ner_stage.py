"""The pre-ner stage: outputs, the empty case, the tokenizer it counted with, its command line."""

import json

import pytest

from host.jobs import create_job
from shared.errors import InputError
from shared.options.pre_ner import PreNerOptions
from stages.pre_ner.stage import NOTHING_FOUND_NOTE, NOTHING_GIVEN_NOTE, model_identity, run
from tests.conftest import make_media, run_stage

METADATA = {"title": "A phone call", "cast": [{"actor": "Jane Roe", "character": "Diane"},
                                              {"actor": "Mary Major", "character": "Sheila"}],
            "places": ["New Jersey", "Texas", "Chicago"]}
GLOSSARY = "term\tpreferred\taliases\tnote\ncomfy ui\tComfyUI\tcomfy eye\tproduct name\n"


def outputs_in(folder):
    return {"entities": folder / "entities.json", "prompt": folder / "prompt.json"}


def test_names_become_entities_and_a_prompt_counted_by_the_whisper_tokenizer(tmp_path):
    (tmp_path / "metadata.json").write_text(json.dumps(METADATA))
    (tmp_path / "glossary.tsv").write_text(GLOSSARY)
    report = run({"metadata": tmp_path / "metadata.json", "glossary": tmp_path / "glossary.tsv"},
                 outputs_in(tmp_path), PreNerOptions(tokenizer_model="tiny.en"))
    entities = json.loads((tmp_path / "entities.json").read_text())["entities"]
    assert [e["text"] for e in entities][:3] == ["ComfyUI", "Diane", "Sheila"]
    assert {"text", "label", "source", "weight"} <= set(entities[0])
    prompt = json.loads((tmp_path / "prompt.json").read_text())
    assert prompt["initial_prompt"].startswith("ComfyUI, Diane, Sheila, New Jersey")
    assert prompt["hotwords"] == "ComfyUI"
    assert 0 < prompt["tokens"]["total"] <= 223 and prompt["tokens"]["budget"] == 223
    assert prompt["tokenizer"]["name"] == "tiny.en" and prompt["tokenizer"]["source"] == "embedded"
    assert report.metrics["tokens"] == prompt["tokens"]["total"] and not report.notes


def test_no_metadata_and_no_glossary_is_an_empty_result_that_says_so(tmp_path):
    report = run({}, outputs_in(tmp_path), PreNerOptions(tokenizer_model="tiny.en"))
    assert json.loads((tmp_path / "entities.json").read_text())["entities"] == []
    prompt = json.loads((tmp_path / "prompt.json").read_text())
    assert (prompt["initial_prompt"], prompt["hotwords"], prompt["tokens"]["total"]) == ("", "", 0)
    assert report.notes == [NOTHING_GIVEN_NOTE]


def test_metadata_that_names_nothing_says_so(tmp_path):
    (tmp_path / "metadata.json").write_text(json.dumps({"year": 1995}))
    report = run({"metadata": tmp_path / "metadata.json"}, outputs_in(tmp_path), PreNerOptions())
    assert report.notes == [NOTHING_FOUND_NOTE]


def test_the_tokenizer_follows_the_asr_model(monkeypatch):
    monkeypatch.delenv("ASR_MODEL", raising=False)
    assert model_identity(PreNerOptions())["tokenizer"]["name"] == "base"  # ASR_MODEL=auto: the multilingual tokenizer
    monkeypatch.setenv("ASR_MODEL", "tiny.en")
    assert model_identity(PreNerOptions())["tokenizer"]["name"] == "tiny.en"
    monkeypatch.setenv("ASR_MODEL", "/no/such/model")
    assert model_identity(PreNerOptions(tokenizer_model="tiny.en"))["tokenizer"]["name"] == "tiny.en"


@pytest.mark.parametrize("options", [PreNerOptions(max_prompt_tokens=224), PreNerOptions(max_prompt_tokens=0),
                                     PreNerOptions(max_hotword_tokens=-1)])
def test_impossible_budgets_are_refused(tmp_path, options):
    with pytest.raises(InputError, match="PRE_NER_MAX"):
        run({}, outputs_in(tmp_path), options)


def test_stage_runs_from_the_command_line_and_reruns_when_the_metadata_changes(tmp_path, jobs_dir):
    media = make_media(tmp_path / "a.wav", "-f", "lavfi", "-i", "sine=d=1")
    meta = tmp_path / "m.json"
    meta.write_text(json.dumps(METADATA))
    job = create_job(media, jobs_dir=jobs_dir, metadata=meta)
    first = run_stage("pre-ner", job.id, jobs_dir)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout.splitlines()[-1])["status"] == "ran"
    assert json.loads(run_stage("pre-ner", job.id, jobs_dir).stdout.splitlines()[-1])["status"] == "fresh"
    meta.write_text(json.dumps({**METADATA, "places": ["Kesmareth"]}))
    create_job(media, jobs_dir=jobs_dir, metadata=meta)
    again = run_stage("pre-ner", job.id, jobs_dir)
    assert json.loads(again.stdout.splitlines()[-1])["status"] == "ran"
    assert "Kesmareth" in (job.root / "pre-ner" / "prompt.json").read_text()


def test_spacy_pipelines_resolve_from_the_cache_then_the_embedded_package(tmp_path, monkeypatch):
    import spacy

    from shared.errors import ModelNotFound
    from shared.models import resolve_spacy

    monkeypatch.setenv("MODEL_CACHE", str(tmp_path))
    assert resolve_spacy("en").source == "embedded"
    with pytest.raises(ModelNotFound, match="no spaCy pipeline for 'de'") as err:
        resolve_spacy("de")
    assert "spacy/de_core_news_sm" in err.value.hint
    (tmp_path / "spacy").mkdir()
    spacy.blank("de").to_disk(tmp_path / "spacy" / "de_core_news_sm")
    found = resolve_spacy("de")
    assert (found.source, found.path) == ("cache", str(tmp_path / "spacy" / "de_core_news_sm"))
    assert resolve_spacy(str(tmp_path / "spacy" / "de_core_news_sm")).source == "local"
    assert spacy_model_language_pick(tmp_path) == "de"


def spacy_model_language_pick(tmp_path):
    """pre-ner's auto choice follows the metadata's language."""
    from stages.pre_ner.stage import spacy_model

    return spacy_model(PreNerOptions(), "de-DE").name
