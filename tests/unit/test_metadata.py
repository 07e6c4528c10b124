import pytest

from shared.errors import InputError
from shared.metadata import parse_glossary, parse_metadata


def test_full_metadata():
    meta = parse_metadata({"title": "Heat", "year": 1995, "synopsis": " Robbers. ",
                           "cast": [{"actor": "Al Pacino", "character": "Vincent Hanna"}],
                           "places": ["Los Angeles", " "], "terms": ["Kevlar"], "speakers": {"SPEAKER_00": "Vincent"}})
    assert meta.synopsis == "Robbers." and meta.places == ("Los Angeles",)
    assert meta.cast[0].character == "Vincent Hanna" and meta.speakers == {"SPEAKER_00": "Vincent"}


@pytest.mark.parametrize("data, message", [
    ([], "JSON object"), ({"titel": "x"}, "unknown key"), ({"year": "1995"}, "year"),
    ({"places": "Paris"}, "places"), ({"speakers": {"S0": 1}}, "speakers"),
])
def test_metadata_errors_name_the_field(data, message):
    with pytest.raises(InputError, match=message):
        parse_metadata(data)


def test_glossary_with_aliases_and_optional_columns():
    entries = parse_glossary("term\tpreferred\taliases\nComfyUI\t\tcomfy eye | comfy you eye\n\n")
    assert entries[0].spelling == "ComfyUI" and entries[0].aliases == ("comfy eye", "comfy you eye")


@pytest.mark.parametrize("text, message", [
    ("word\tpreferred\nx\ty\n", "header"), ("term\tpreferred\n\tComfyUI\n", "line 2"),
    ("term\tpreferred\na\tb\tc\n", "columns"),
])
def test_glossary_errors_name_the_line(text, message):
    with pytest.raises(InputError, match=message):
        parse_glossary(text)
