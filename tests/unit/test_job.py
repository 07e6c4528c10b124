import pytest

from host.jobs import create_job
from shared.errors import InputError, JobError
from shared.job import Job, slug, validate_job_id


@pytest.mark.parametrize("job_id", ["movie-1234abcd", "a", "Episode_01.v2"])
def test_valid_job_ids(job_id):
    assert validate_job_id(job_id) == job_id


@pytest.mark.parametrize("job_id", ["", "../etc", "a/b", "..", ".hidden", "a..b", "x" * 129, "a b", "/abs", "-x"])
def test_job_ids_with_path_tricks_are_rejected(job_id):
    with pytest.raises(JobError):
        validate_job_id(job_id)


def test_slug_is_ascii_and_safe():
    assert slug("Amélie à Paris (2001)") == "Amelie-a-Paris-2001"
    assert validate_job_id(slug("日本語"))  # falls back to a safe name


def test_create_records_input_and_is_stable(tmp_path):
    media = tmp_path / "film 1.mp4"
    media.write_bytes(b"not really a film, but bytes")
    job = create_job(media, jobs_dir=tmp_path / "jobs")
    record = job.input_record()
    assert record.name == "film 1.mp4" and record.size_bytes == media.stat().st_size and len(record.sha256) == 64
    assert job.id.startswith("film-1-") and job.id.endswith(record.sha256[:8])
    again = create_job(media, jobs_dir=tmp_path / "jobs")
    assert again.root == job.root
    assert Job.open(job.id, tmp_path / "jobs").media_path() == media.absolute()


def test_job_id_of_another_file_is_refused(tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    a.write_bytes(b"a" * 10)
    b.write_bytes(b"b" * 10)
    create_job(a, jobs_dir=tmp_path, job_id="same")
    with pytest.raises(JobError, match="another file"):
        create_job(b, jobs_dir=tmp_path, job_id="same")


@pytest.mark.parametrize("name, content, message", [("missing.mp4", None, "not found"), ("empty.mp4", b"", "empty")])
def test_bad_media_is_refused_with_a_reason(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        create_job(path, jobs_dir=tmp_path / "jobs")
    assert not (tmp_path / "jobs").exists() or not any((tmp_path / "jobs").iterdir())


def test_unknown_stage_never_creates_a_folder(tmp_path):
    media = tmp_path / "a.wav"
    media.write_bytes(b"x")
    job = create_job(media, jobs_dir=tmp_path / "jobs")
    with pytest.raises(JobError, match="unknown stage"):
        job.stage_dir("99_mux")
    assert not (job.root / "99_mux").exists()


def test_config_is_validated(tmp_path):
    media = tmp_path / "a.wav"
    media.write_bytes(b"x")
    with pytest.raises(JobError, match="unknown stage"):
        create_job(media, jobs_dir=tmp_path / "jobs", config={"asrr": {"model": "base"}})
    job = create_job(media, jobs_dir=tmp_path / "jobs", config={"asr": {"model": "base"}})
    assert job.config() == {"asr": {"model": "base"}}


def test_media_hash_notices_changed_content(tmp_path):
    media = tmp_path / "a.wav"
    media.write_bytes(b"one")
    job = create_job(media, jobs_dir=tmp_path / "jobs")
    first = job.media_hash()
    media.write_bytes(b"two!")
    assert job.media_hash() != first


def test_metadata_and_glossary_are_validated_and_copied(tmp_path):
    media = tmp_path / "a.wav"
    media.write_bytes(b"x")
    metadata = tmp_path / "m.json"
    metadata.write_text('{"cast": [{"actor": "A", "character": "Diane"}], "speakers": {"SPEAKER_00": "Diane"}}')
    glossary = tmp_path / "g.tsv"
    glossary.write_text("term\tpreferred\taliases\tnote\ncomfy ui\tComfyUI\tcomfy eye|comfy you eye\tproduct\n")
    job = create_job(media, jobs_dir=tmp_path / "jobs", metadata=metadata, glossary=glossary)
    assert (job.root / "metadata.json").read_text() == metadata.read_text()
    assert job.artifact_path("glossary").read_text() == glossary.read_text()
    metadata.write_text('{"cast": ["Diane"]}')
    with pytest.raises(InputError, match=r"cast\[0\]"):
        create_job(media, jobs_dir=tmp_path / "jobs2", metadata=metadata)
