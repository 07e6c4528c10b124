"""Options that follow another stage's: pre-ner counts tokens with the tokenizer of asr's model,
however that model was set (environment, job config, the runner's flag)."""

from host import runner
from host.jobs import create_job
from shared import graph
from shared.options.pre_ner import PreNerOptions
from shared.stage import follow_links, job_options

PRE_NER = graph.stage("pre-ner")


def test_auto_follows_asr_model_from_the_environment_and_the_default():
    assert follow_links(PRE_NER, PreNerOptions(), environ={}).tokenizer_model == "asr:auto"  # the default, followed
    assert follow_links(PRE_NER, PreNerOptions(), environ={"ASR_MODEL": "base"}).tokenizer_model == "base"


def test_an_explicit_value_is_kept():
    assert follow_links(PRE_NER, PreNerOptions(tokenizer_model="tiny.en"), environ={"ASR_MODEL": "base"}).tokenizer_model == "tiny.en"


def test_the_job_config_of_asr_reaches_pre_ner(tmp_path, monkeypatch):
    monkeypatch.delenv("ASR_MODEL", raising=False)
    media = tmp_path / "film.wav"
    media.write_bytes(b"media bytes")
    job = create_job(media, jobs_dir=tmp_path / "jobs", config={"asr": {"model": "base"}})
    assert job_options(PRE_NER, job).tokenizer_model == "base"
    monkeypatch.setenv("ASR_MODEL", "tiny.en")  # environment over job config, as for asr itself
    assert job_options(PRE_NER, job).tokenizer_model == "tiny.en"


def test_the_runners_asr_flag_is_passed_to_pre_ner_unless_its_own_is_given():
    args = runner.build_parser().parse_args(["in.wav", "--asr-model", "base"])
    assert runner._stage_flags(args, PRE_NER) == ["--tokenizer-model", "base"]
    args = runner.build_parser().parse_args(["in.wav", "--asr-model", "base", "--pre-ner-tokenizer-model", "tiny.en"])
    assert runner._stage_flags(args, PRE_NER) == ["--tokenizer-model", "tiny.en"]


def test_pre_ner_reads_only_its_own_settings_and_the_one_it_follows():
    assert graph.settings_of("pre-ner") == ("PRE_NER_SPACY_MODEL", "PRE_NER_TOKENIZER_MODEL", "PRE_NER_MAX_PROMPT_TOKENS",
                                            "PRE_NER_MAX_HOTWORD_TOKENS", "ASR_MODEL")
    assert "ASR_MODEL" not in graph.settings_of("post-ner")


def test_asr_model_auto_reaches_the_followers_as_asr_auto_not_as_their_own_auto():
    """ASR_MODEL=auto (chosen by the film's language) must not read as "follow asr" once followed."""
    assert follow_links(PRE_NER, PreNerOptions(), environ={"ASR_MODEL": "auto"}).tokenizer_model == "asr:auto"
    args = runner.build_parser().parse_args(["in.wav", "--asr-model", "auto"])
    assert runner._stage_flags(args, PRE_NER) == ["--tokenizer-model", "asr:auto"]
    assert runner._stage_flags(args, graph.stage("translation")) == ["--asr-model", "asr:auto"]
