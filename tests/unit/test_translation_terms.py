"""Protected names and glossary terms: which, found where, restored how."""

from __future__ import annotations

import json

from stages.translation import terms as T


def lexicon():
    return T.dedupe([T._term("Vincent Hanna", "person"), T._term("ComfyUI", "glossary", ("comfy ui", "comfy eye")),
                     T._term("Kevlar", "term")])


def test_found_terms_longest_first_and_parts_alone():
    found = T.find("Hanna said comfy eye is great, and vincent hanna wears Kevlar.", lexicon())
    assert [t.spelling for t in found] == ["Vincent Hanna", "ComfyUI", "Kevlar"]
    alone = T.find("Hanna is here", lexicon())
    assert [t.spelling for t in alone] == ["Hanna"]  # a part of the name is required as itself
    assert T.find("nothing to see", lexicon()) == []
    assert T.find("Kevlarish vests", lexicon()) == []  # whole words only


def test_source_gets_the_preferred_spelling():
    found = T.find("the comfy eye app and comfy ui", lexicon())
    assert T.spell_in_source("the comfy eye app and comfy ui", found) == "the ComfyUI app and ComfyUI"


def test_restore_respells_fuzzy_matches_and_reports_missing():
    found = T.find("Vincent Hanna wears Kevlar with ComfyUI", lexicon())
    text, records = T.restore("Vinsent Hana lleva kevlar con Comfy UI.", found)
    assert text == "Vincent Hanna lleva Kevlar con ComfyUI."
    assert {r["term"]: r["how"] for r in records} == {"Vincent Hanna": "fuzzy", "Kevlar": "respelt", "ComfyUI": "alias"}
    text, records = T.restore("Lleva un chaleco.", found)
    assert text == "Lleva un chaleco." and all(not r["kept"] for r in records)
    assert T.compliance(records) == (0, 3)


def test_entities_protect_people_terms_and_glossary_not_places_or_titles():
    data = {"entities": [
        {"text": "ComfyUI", "label": "TERM", "source": "glossary", "weight": 1.0, "sources": ["glossary"],
         "aliases": ["comfy eye"]},
        {"text": "Diane", "label": "PERSON", "source": "cast.character", "weight": 0.95, "sources": ["cast.character"]},
        {"text": "Chicago", "label": "GPE", "source": "places", "weight": 0.85, "sources": ["places"]},
        {"text": "Call", "label": "WORK_OF_ART", "source": "title", "weight": 0.7, "sources": ["title"]},
        {"text": "Bob", "label": "PERSON", "source": "synopsis", "weight": 0.6, "sources": ["synopsis"]},
    ]}
    assert sorted(t.spelling for t in T.from_entities(data)) == ["ComfyUI", "Diane"]


def test_job_files_give_terms_when_pre_ner_is_off(tmp_path):
    (tmp_path / "metadata.json").write_text(json.dumps({"cast": [{"actor": "Al Pacino", "character": "Vincent Hanna"}],
                                                         "terms": ["Kevlar"], "places": ["Los Angeles"]}))
    (tmp_path / "glossary.tsv").write_text("term\tpreferred\taliases\nmac guffin\tMacGuffin\tmcguffin\n")
    found, source = T.load_terms({"metadata": tmp_path / "metadata.json", "glossary": tmp_path / "glossary.tsv"})
    assert source == "metadata and glossary"
    assert sorted(t.spelling for t in found) == ["Al Pacino", "Kevlar", "MacGuffin", "Vincent Hanna"]
    assert T.load_terms({}) == ([], "none (no metadata, glossary or pre-ner entities)")
