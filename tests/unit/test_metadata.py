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


def test_metadata_and_glossary_have_size_limits_with_one_line_errors(tmp_path):
    import pytest as _pytest

    from shared import metadata as md
    from shared.errors import InputError
    big = tmp_path / "metadata.json"
    big.write_text('{"synopsis": "' + "x" * md.METADATA_MAX_BYTES + '"}')
    with _pytest.raises(InputError, match="larger than"):
        md.load_metadata(big)
    rows = tmp_path / "glossary.tsv"
    rows.write_text("term\tpreferred\n" + "".join(f"t{i}\tT{i}\n" for i in range(md.GLOSSARY_MAX_ROWS + 1)))
    with _pytest.raises(InputError, match="rows"):
        md.load_glossary(rows)
    huge = tmp_path / "huge.tsv"
    huge.write_text("term\tpreferred\n" + "x" * md.GLOSSARY_MAX_BYTES + "\tX\n")
    with _pytest.raises(InputError, match="larger than"):
        md.load_glossary(huge)


def test_metadata_language_must_be_a_language_code():
    import pytest as _pytest

    from shared.errors import InputError
    from shared.metadata import parse_metadata
    for good in ("en", "pt-BR", "zh-Hans", "yue", ""):
        assert parse_metadata({"language": good}).language == good
    for bad in ("../../x", "/tmp/model", "en_core_web_sm", "english", "e"):
        with _pytest.raises(InputError, match="language"):
            parse_metadata({"language": bad})
