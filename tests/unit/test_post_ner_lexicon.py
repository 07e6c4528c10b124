"""post-ner's known names: from pre-ner's entities or straight from the job files."""

from shared.metadata import parse_glossary, parse_metadata
from stages.post_ner.lexicon import dedupe, forms_of, from_entities, from_metadata


def by_text(forms):
    return {f.text: f for f in forms}


def test_entities_give_names_aliases_and_the_words_of_a_characters_name():
    forms = by_text(from_entities({"entities": [
        {"text": "ComfyUI", "label": "TERM", "source": "glossary", "weight": 1.0, "aliases": ["comfy eye", "Comfy UI"]},
        {"text": "Sergeant Vincent Hanna", "label": "PERSON", "source": "cast.character", "weight": 0.9},
        {"text": "Mortimer Grail", "label": "PERSON", "source": "synopsis", "weight": 0.3},
    ]}))
    assert forms["comfy eye"].spelling == "ComfyUI" and forms["comfy eye"].kind == "alias"
    assert "Comfy UI" not in forms  # the same letters as the name itself
    assert forms["Hanna"].kind == "part" and forms["Hanna"].weight < 0.9
    assert "Sergeant" not in forms  # a title is never matched alone
    assert "Grail" not in forms  # parts only of names certain enough


def test_metadata_without_pre_ner_gives_the_same_kinds_of_forms():
    metadata = parse_metadata({"cast": [{"actor": "Al Pacino", "character": "Vincent Hanna"}], "places": ["Los Angeles"],
                               "terms": ["Kevlar"], "title": "Heat"})
    glossary = parse_glossary("term\tpreferred\taliases\ncomfy ui\tComfyUI\tcomfy eye\n")
    forms = by_text(from_metadata(metadata, glossary))
    assert {"ComfyUI", "comfy eye", "Vincent Hanna", "Vincent", "Hanna", "Los Angeles", "Kevlar", "Heat",
            "Al Pacino"} <= set(forms)
    assert forms["Vincent Hanna"].weight > forms["Al Pacino"].weight
    assert from_metadata(None, ()) == []


def test_one_form_per_text_the_most_certain_wins():
    forms = dedupe([*forms_of("Hanna", "PERSON", "synopsis", 0.3), *forms_of("Vincent Hanna", "PERSON", "cast.character", 0.9)])
    assert by_text(forms)["Hanna"].source == "cast.character"
