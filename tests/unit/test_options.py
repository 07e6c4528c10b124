import pytest

from host.settings_doc import settings_table
from shared import graph
from shared.errors import InputError
from shared.options import resolve, to_dict
from shared.options.asr import AsrOptions
from shared.options.subtitles import SubtitleOptions


def test_defaults_when_nothing_is_set():
    options = resolve(AsrOptions, {}, {}, {})
    assert options == AsrOptions()
    assert options.model == "auto"  # the film's language picks the model (docs/FILM.md)


def test_precedence_default_config_environment_flag():
    config = {"model": "from-config", "beam_size": 3, "language": "de"}
    environ = {"ASR_MODEL": "from-env", "ASR_BEAM_SIZE": "4"}
    flags = {"model": "from-flag"}
    options = resolve(AsrOptions, config, environ, flags)
    assert options.model == "from-flag"  # flag beats env and config
    assert options.beam_size == 4  # env beats config
    assert options.language == "de"  # config beats default
    assert options.task == "transcribe"  # default


def test_empty_environment_value_does_not_override():
    assert resolve(AsrOptions, {"model": "base"}, {"ASR_MODEL": ""}, {}).model == "base"


def test_values_are_converted_once_at_the_boundary():
    options = resolve(SubtitleOptions, {}, {"SUBTITLE_FORMATS": "srt, vtt", "SUBTITLE_MAX_CHARS_PER_S": "18.5"}, {})
    assert options.formats == ("srt", "vtt")
    assert options.max_chars_per_s == 18.5
    assert to_dict(options)["formats"] == ["srt", "vtt"]


@pytest.mark.parametrize("environ, message", [
    ({"ASR_BEAM_SIZE": "five"}, "ASR_BEAM_SIZE"),
    ({"ASR_TASK": "summarize"}, "not one of"),
])
def test_bad_values_name_the_setting(environ, message):
    with pytest.raises(InputError, match=message):
        resolve(AsrOptions, {}, environ, {})


def test_unknown_config_key_is_an_error_not_ignored():
    with pytest.raises(InputError, match="unknown option"):
        resolve(AsrOptions, {"modle": "base"}, {}, {})


def test_every_setting_has_one_unique_environment_name_and_help():
    names = [f.metadata["env"] for spec in graph.STAGES for f in __import__("dataclasses").fields(spec.options)]
    assert len(names) == len(set(names))
    table = settings_table(graph.options_by_stage())
    for name in names:
        assert f"`{name}`" in table
