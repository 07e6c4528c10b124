"""pre-ner's entities: every listed name kept, labelled, deduplicated and ranked."""

import pytest

from shared.metadata import parse_glossary, parse_metadata
from stages.pre_ner import entities as ents


@pytest.fixture(scope="module")
def nlp():
    import spacy

    from shared.models import resolve_spacy

    return spacy.load(resolve_spacy("en").path)


METADATA = parse_metadata({
    "title": "The Call",
    "synopsis": "Diane, who lives in New Jersey, phones Sheila in Texas. Sheila mentions Mortimer Grail, "
                "who took the train from Tarvania for Teodric.",
    "cast": [{"actor": "Jane Roe", "character": "Diane"}, {"actor": "Mary Major", "character": "Sheila"}],
    "places": ["New Jersey", "Texas", "Chicago"],
    "terms": ["Zyntrex"],
})
GLOSSARY = parse_glossary("term\tpreferred\taliases\tnote\ncomfy ui\tComfyUI\tcomfy eye|comfy you eye\tproduct\n")


def test_ranked_by_weight_glossary_first_then_characters_places_actors(nlp):
    found = ents.collect(METADATA, GLOSSARY, nlp)
    texts = [e.text for e in found]
    assert texts[0] == "ComfyUI"
    assert texts.index("Diane") < texts.index("Chicago") < texts.index("The Call") < texts.index("Jane Roe")
    assert [e.weight for e in found] == sorted((e.weight for e in found), reverse=True)


def test_every_listed_item_is_kept_once_with_its_label_and_sources(nlp):
    found = {e.text: e for e in ents.collect(METADATA, GLOSSARY, nlp)}
    assert found["Diane"].label == "PERSON" and found["Diane"].sources == ["cast.character", "synopsis"]
    assert found["Diane"].weight > ents.SOURCE_WEIGHTS["cast.character"]  # named twice: a little more certain
    assert found["Texas"].label == "GPE" and found["Texas"].source == "places"
    assert found["Zyntrex"].source == "terms"
    assert found["The Call"].label == "WORK_OF_ART"  # a title keeps its article
    assert found["ComfyUI"].aliases == ["comfy ui", "comfy eye", "comfy you eye"]
    assert sum(1 for e in found.values() if ents.key(e.text) == "new jersey") == 1


def test_synopsis_adds_names_nobody_listed_at_a_low_weight(nlp):
    found = {e.text: e for e in ents.collect(METADATA, (), nlp)}
    assert found["Mortimer Grail"].source == "synopsis"
    assert found["Mortimer Grail"].weight < ents.SOURCE_WEIGHTS["cast.actor"]
    assert "Tarvania for Teodric" not in found  # a span that ran into the sentence is dropped


def test_nothing_in_nothing_out(nlp):
    assert ents.collect(None, (), nlp) == []
    assert ents.collect(parse_metadata({}), (), nlp) == []


def test_the_better_source_spells_it():
    metadata = parse_metadata({"places": ["new jersey"], "cast": [{"character": "Diane"}]})
    glossary = parse_glossary("term\tpreferred\nnew jersey\tNew Jersey\n")

    class NoNer:
        def pipe(self, texts):
            return [type("Doc", (), {"ents": (), "text": t})() for t in texts]

    found = ents.collect(metadata, glossary, NoNer())
    assert [(e.text, e.source, e.label) for e in found] == [("New Jersey", "glossary", "TERM"),
                                                            ("Diane", "cast.character", "PERSON")]
    assert found[0].sources == ["glossary", "places"]


@pytest.mark.parametrize("raw, clean", [(" Vincent Hanna's ", "Vincent Hanna"), ("“Kevlar”,", "Kevlar"),
                                        ("The Call", "The Call")])
def test_clean(raw, clean):
    assert ents.clean(raw) == clean


def test_clean_drops_an_article_from_running_text():
    assert ents.clean("the United States", article=False) == "United States"
