"""Names end to end: pre-ner's prompt reaches the model, post-ner fixes what the ASR still
misspells, and without metadata nothing changes. Real stages, real models, through the runner."""

import json
import shutil

import pytest

from bench import eval_names as ev
from shared import schema
from shared.lock import read_lock

pytestmark = pytest.mark.integration

GLOSSARY = "term\tpreferred\taliases\tnote\ncomfy ui\tComfyUI\tcomfy eye\tproduct name\n"


def transcript_text(root, stage="asr"):
    return schema.load(root / stage / "transcript.json", schema.Transcript).text


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed (apt-get install flite)")
    return ev.make_story(tmp_path_factory.mktemp("story"))


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    return tmp_path_factory.mktemp("jobs") / "jobs"


def glossary_job(eval_data, jobs, job_id, glossary):
    """hotwords.mp3 through pre-ner and asr, with or without the glossary (no metadata)."""
    from host.jobs import create_job

    path = None
    if glossary:
        path = jobs.parent / f"{job_id}.tsv"
        path.write_text(glossary)
    create_job(eval_data / "hotwords.mp3", jobs_dir=jobs, job_id=job_id, glossary=path)
    return ev.run_job(eval_data / "hotwords.mp3", jobs, job_id, None)


def test_the_glossary_reaches_the_model_through_the_prompt(eval_data, jobs):
    """The embedded tiny.en writes "comfy eye" for this clip unless it is given the word."""
    with_names = glossary_job(eval_data, jobs, "hotwords-glossary", GLOSSARY)
    without = glossary_job(eval_data, jobs, "hotwords-plain", None)
    assert "ComfyUI" in transcript_text(with_names)
    assert "ComfyUI" not in transcript_text(without) and "comfy" in transcript_text(without).lower()
    producer = schema.load(with_names / "asr" / "transcript.json", schema.Transcript).producer
    assert producer.details["prompt"]["from_pre_ner"]["prompt_items"] == ["ComfyUI"]
    assert "ComfyUI" in producer.details["prompt"]["initial_prompt"] and "ComfyUI" in producer.details["prompt"]["hotwords"]
    assert 0 < producer.details["prompt"]["tokens"] <= 223
    prompt = json.loads((with_names / "pre-ner" / "prompt.json").read_text())
    # ASR_MODEL=auto (the default): pre-ner counts with the multilingual tokenizer, asr picked tiny.en for English
    assert (prompt["tokenizer"]["name"], producer.model["name"]) == ("base", "tiny.en")
    assert read_lock(with_names / "pre-ner").report["metrics"]["tokenizer_model"] == "base"


def test_every_name_in_sample_is_spelled_right_and_reaches_the_subtitles(eval_data, jobs):
    root = ev.run_job(eval_data / "sample.wav", jobs, "sample-names", ev.SAMPLE_METADATA, until="subtitles")
    found, total, missed = ev.name_recall(ev.sample_reference(), transcript_text(root, "post-ner"), ev.SAMPLE_NAMES)
    assert total == 8 and found == total, missed
    assert "corrected_transcript" in read_lock(root / "subtitles").fingerprint.inputs
    srt = next((root / "subtitles").glob("*.srt")).read_text()
    assert all(name in srt for name in ev.SAMPLE_NAMES)


def test_post_ner_fixes_invented_names_the_asr_misspells(story, jobs):
    root = ev.run_job(story, jobs, "story-plain", ev.STORY_METADATA, skip="pre-ner", until="subtitles")
    case = ev.measure("story-plain", root, ev.story_text(), ev.STORY_NAMES)
    assert case.recall_asr[0] / case.recall_asr[1] <= 0.2, case.text_asr  # the ASR alone misspells them
    assert case.recall_final[0] / case.recall_final[1] >= 0.5, (case.text_final, case.missed)
    assert case.false == [], case.false
    assert case.wer_final < case.wer_asr
    corrections = json.loads((root / "post-ner" / "corrections.json").read_text())["corrections"]
    assert all(c["score"] >= c["needed"] >= 80 and c["end_s"] > c["start_s"] for c in corrections)
    srt = next((root / "subtitles").glob("*.srt")).read_text()
    assert "Kesmareth" in srt and "Kessmirth" not in srt  # subtitles read the corrected transcript
    assert "Kessmirth" in transcript_text(root)  # and the asr output is as the ASR wrote it


def test_prompt_and_correction_together(story, jobs):
    root = ev.run_job(story, jobs, "story-full", ev.STORY_METADATA)
    case = ev.measure("story-full", root, ev.story_text(), ev.STORY_NAMES)
    assert case.recall_final[0] / case.recall_final[1] >= 0.7, (case.text_final, case.missed)
    assert case.recall_asr[0] / case.recall_asr[1] >= 0.5  # the prompt alone already helps
    assert case.false == [], case.false


def test_without_metadata_nothing_changes(story, jobs):
    root = ev.run_job(story, jobs, "story-none", None)
    assert json.loads((root / "post-ner" / "corrections.json").read_text())["corrections"] == []
    assert transcript_text(root, "post-ner") == transcript_text(root)
    assert schema.load(root / "post-ner" / "transcript.json", schema.Transcript).segments == \
        schema.load(root / "asr" / "transcript.json", schema.Transcript).segments
    notes = read_lock(root / "post-ner").report["notes"]
    assert notes and "nothing to correct" in notes[0]
