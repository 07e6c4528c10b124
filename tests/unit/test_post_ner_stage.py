"""The post-ner stage: its two outputs, the asr transcript left alone, the no-names case, its command line."""

import json

import pytest

from host.jobs import create_job
from shared import schema
from shared.errors import InputError
from shared.fsio import sha256_file
from shared.options.post_ner import PostNerOptions
from stages.post_ner.stage import NO_NAMES_NOTE, run
from tests.conftest import make_media, run_stage


def asr_transcript(path, text="Have you seen the map of Kessmirth? Open your comfy eye folder."):
    words, t = [], 0.0
    for w in text.split():
        words.append(schema.Word(t, t + 0.4, " " + w, 0.9))
        t += 0.5
    segment = schema.Segment(0.0, t, "".join(w.text for w in words), tuple(words))
    schema.write(path, schema.Transcript("en", 1.0, t, (segment,), {"stage": "asr", "model": {"name": "tiny.en"}}))
    return path


def outputs_in(folder):
    return {"corrected_transcript": folder / "transcript.json", "corrections": folder / "corrections.json"}


@pytest.fixture
def names(tmp_path):
    (tmp_path / "metadata.json").write_text(json.dumps({"places": ["Kesmareth"]}))
    (tmp_path / "glossary.tsv").write_text("term\tpreferred\taliases\ncomfy ui\tComfyUI\tcomfy eye\n")
    return {"metadata": tmp_path / "metadata.json", "glossary": tmp_path / "glossary.tsv"}


def test_corrected_transcript_and_log_the_asr_transcript_untouched(tmp_path, names):
    source = asr_transcript(tmp_path / "asr.json")
    before = sha256_file(source)
    (tmp_path / "out").mkdir()
    report = run({"transcript": source, **names}, outputs_in(tmp_path / "out"), PostNerOptions())
    assert sha256_file(source) == before
    corrected = schema.load(tmp_path / "out" / "transcript.json", schema.Transcript)
    assert corrected.text == "Have you seen the map of Kesmareth? Open your ComfyUI folder."
    assert corrected.producer.stage == "post-ner" and corrected.producer.details["asr"]["stage"] == "asr"
    log = json.loads((tmp_path / "out" / "corrections.json").read_text())
    assert [(c["original"], c["corrected"], c["rule"]) for c in log["corrections"]] == [
        ("Kessmirth", "Kesmareth", "fuzzy"), ("comfy eye", "ComfyUI", "alias")]
    assert {"original", "corrected", "score", "start_s", "end_s", "rule"} <= set(log["corrections"][0])
    assert report.metrics["corrections"] == 2 and not report.notes


def test_entities_from_pre_ner_are_used_when_given(tmp_path):
    source = asr_transcript(tmp_path / "asr.json", "We flew to Tarvanya yesterday.")
    (tmp_path / "entities.json").write_text(json.dumps({"entities": [
        {"text": "Tarvania", "label": "GPE", "source": "places", "weight": 0.8, "aliases": []}]}))
    (tmp_path / "out").mkdir()
    run({"transcript": source, "entities": tmp_path / "entities.json"}, outputs_in(tmp_path / "out"), PostNerOptions())
    assert "Tarvania" in schema.load(tmp_path / "out" / "transcript.json", schema.Transcript).text


def test_no_names_writes_the_transcript_unchanged_and_says_why(tmp_path):
    source = asr_transcript(tmp_path / "asr.json")
    (tmp_path / "out").mkdir()
    report = run({"transcript": source}, outputs_in(tmp_path / "out"), PostNerOptions())
    corrected = schema.load(tmp_path / "out" / "transcript.json", schema.Transcript)
    assert corrected.segments == schema.load(source, schema.Transcript).segments
    assert json.loads((tmp_path / "out" / "corrections.json").read_text())["corrections"] == []
    assert report.notes == [NO_NAMES_NOTE]


@pytest.mark.parametrize("options", [PostNerOptions(min_score=0), PostNerOptions(max_ngram_words=0),
                                     PostNerOptions(low_probability=2)])
def test_bad_options_are_refused(tmp_path, options):
    with pytest.raises(InputError, match="POST_NER"):
        run({"transcript": asr_transcript(tmp_path / "asr.json")}, outputs_in(tmp_path), options)


def test_stage_runs_from_the_command_line(tmp_path, jobs_dir, names):
    media = make_media(tmp_path / "a.wav", "-f", "lavfi", "-i", "sine=d=1")
    job = create_job(media, jobs_dir=jobs_dir, metadata=names["metadata"], glossary=names["glossary"])
    (job.root / "asr").mkdir()
    asr_transcript(job.root / "asr" / "transcript.json")
    refused = run_stage("post-ner", job.id, jobs_dir)  # pre-ner is on, and has not run
    assert refused.returncode == 2 and "run stage pre-ner first" in refused.stderr
    done = run_stage("post-ner", job.id, jobs_dir, SKIP_STAGES="pre-ner")
    assert done.returncode == 0, done.stderr
    assert "ComfyUI" in (job.root / "post-ner" / "transcript.json").read_text()
    assert run_stage("pre-ner", job.id, jobs_dir).returncode == 0
    with_entities = run_stage("post-ner", job.id, jobs_dir)
    assert json.loads(with_entities.stdout.splitlines()[-1])["status"] == "ran"  # its inputs changed
