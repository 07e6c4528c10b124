"""post-ner's matching: what it corrects, what it must never touch, and how words keep their times."""

import pytest

from shared import schema
from shared.metadata import parse_glossary, parse_metadata
from stages.post_ner.lexicon import from_metadata
from stages.post_ner.match import correct, score, sound, spelling_key, split_word


@pytest.fixture(scope="module")
def nlp():
    import spacy

    from shared.models import resolve_spacy

    return spacy.load(resolve_spacy("en").path)


def transcript(*sentences, low=()):
    """One segment per sentence; words 0.5 s apart; words listed in ``low`` get probability 0.2."""
    segments, t = [], 0.0
    for sentence in sentences:
        words = []
        for text in sentence.split():
            words.append(schema.Word(round(t, 3), round(t + 0.4, 3), " " + text, 0.2 if text.strip(".,?!") in low else 0.95))
            t += 0.5
        segments.append(schema.Segment(words[0].start_s, words[-1].end_s, "".join(w.text for w in words), tuple(words)))
    return schema.Transcript("en", 1.0, t, tuple(segments), {"stage": "asr"})


STORY = parse_metadata({"cast": [{"actor": "Ann Lee", "character": "Maribeth Oskeyne"}, {"character": "Katrine"},
                                 {"character": "Teodric"}],
                        "places": ["Kesmareth", "Drellmoor", "Mirrow", "New Jersey", "Chicago"],
                        "terms": ["Zyntrex"]})
GLOSSARY = parse_glossary("term\tpreferred\taliases\nComfy UI\tComfyUI\tcomfy eye\n")


def fix(text_or_transcript, nlp, metadata=STORY, glossary=GLOSSARY, min_score=80.0, **kw):
    t = transcript(text_or_transcript) if isinstance(text_or_transcript, str) else text_or_transcript
    return correct(t, from_metadata(metadata, glossary), nlp, nlp.Defaults.stop_words if nlp else (), min_score, 3,
                   kw.get("low_probability", 0.5))


def text_of(result):
    return result.transcript.text


def test_misheard_names_are_corrected_and_logged(nlp):
    result = fix("Have you seen the map of Kessmirth? I think Catrhen is hiding in Dralmur with Teerik.", nlp)
    assert text_of(result) == "Have you seen the map of Kesmareth? I think Katrine is hiding in Drellmoor with Teodric."
    first = result.corrections[0]
    assert (first["original"], first["corrected"], first["rule"]) == ("Kessmirth", "Kesmareth", "fuzzy")
    assert first["score"] >= first["needed"] >= 80
    assert (first["start_s"], first["end_s"]) == (3.0, 3.4)


def test_words_outside_the_corrected_spans_are_untouched(nlp):
    before = transcript("Well, the map of Kessmirth was wrong, said the old man at the door.")
    after = fix(before, nlp).transcript
    changed = [(a.text, b.text) for a, b in zip(before.words, after.words) if a != b]
    assert changed == [(" Kessmirth", " Kesmareth")]
    assert len(before.words) == len(after.words)


def test_an_alias_spanning_several_words_becomes_one_word_over_their_times(nlp):
    result = fix("Open your comfy eye folder.", nlp)
    assert text_of(result) == "Open your ComfyUI folder."
    word = result.transcript.words[2]
    assert (word.text, word.start_s, word.end_s) == (" ComfyUI", 1.0, 1.9)
    assert result.corrections[0]["rule"] == "alias"


def test_a_name_of_as_many_words_keeps_each_words_times(nlp):
    metadata = parse_metadata({"cast": [{"character": "Sergeant Pellwick"}, {"character": "Maribeth"}]})
    result = fix(transcript("Then Sargent pelvic searched the docks.", low={"pelvic"}), nlp, metadata=metadata)
    assert text_of(result) == "Then Sergeant Pellwick searched the docks."
    words = result.transcript.words
    assert [(w.text, w.start_s, w.end_s) for w in words[1:3]] == [(" Sergeant", 0.5, 0.9), (" Pellwick", 1.0, 1.4)]
    merged = fix("Bring the charts to Mary Beth before noon.", nlp, metadata=metadata).transcript
    assert merged.text == "Bring the charts to Maribeth before noon."
    assert (merged.words[4].start_s, merged.words[4].end_s) == (2.0, 2.9)


def test_a_name_that_is_also_a_word_is_left_alone_in_lowercase(nlp):
    metadata = parse_metadata({"cast": [{"character": "Hope"}, {"character": "Will"}]})
    text = "I hope so, and I will go."
    assert text_of(fix(transcript(text, low={"hope"}), nlp, metadata=metadata)) == text


def test_a_lowercase_place_spacy_recognises_gets_its_capitals(nlp):
    assert text_of(fix("I live in new jersey now.", nlp)) == "I live in New Jersey now."


def test_case_is_fixed_for_a_name_like_word(nlp):
    assert text_of(fix("Then open comfyUI again.", nlp)) == "Then open ComfyUI again."


def test_punctuation_and_possessives_are_kept(nlp):
    assert text_of(fix("That was Catrhen's idea, not Teerik's!", nlp)) == "That was Katrine's idea, not Teodric's!"


def test_common_words_are_never_turned_into_names(nlp):
    text = "We walked along the mirror river and then drove home. It was a long, quiet night."
    assert fix(text, nlp).corrections == []
    assert text_of(fix(text, nlp)) == text


def test_a_correctly_spelled_name_blocks_its_neighbours(nlp):
    result = fix("This is Chicago and New Jersey.", nlp)
    assert result.corrections == [] and result.confirmed >= 2


def test_the_threshold_decides(nlp):
    text = "I think Catrhen is here."
    assert fix(text, nlp, min_score=80).corrections
    strict = fix(text, nlp, min_score=90)
    assert strict.corrections == [] and text_of(strict) == text
    assert strict.near_misses and strict.near_misses[0]["candidate"] == "Katrine"


def test_no_known_names_changes_nothing(nlp):
    before = transcript("Have you seen the map of Kessmirth? I think Catrhen is hiding.")
    result = fix(before, nlp, metadata=None, glossary=())
    assert result.transcript == before and result.corrections == []


def test_without_spacy_ngrams_still_match():
    assert text_of(fix("Ask Catrhen about the Zintrex engine.", None)) == "Ask Katrine about the Zyntrex engine."


@pytest.mark.parametrize("word, parts", [(" Kessmirth's?", (" ", "Kessmirth", "'s?")), (" “Hello,", (" “", "Hello", ",")),
                                         (" ...", (" ...", "", "")), (" lay-threnic", (" ", "lay-threnic", ""))])
def test_split_word(word, parts):
    assert split_word(word) == parts


def test_scores():
    assert score("Kessmirth", "Kesmareth") >= 85
    assert score("Catrhen", "Katrine") >= 85
    assert score("comfyUI", "ComfyUI") == 100
    assert score("mother", "Maribeth") < 70
    assert score("Yankee", "Diane") < 60  # short sound keys that disagree
    assert spelling_key("Jaxxon") == spelling_key("Jackson") == "jakson"
    assert sound("Kessmirth") == sound("Kesmareth") == "ksmrt"


def test_ordinary_names_are_not_turned_into_a_real_cast():
    from bench.eval_names import SAMPLE_METADATA, common_names_changes

    assert common_names_changes(SAMPLE_METADATA) == []  # 270 sentences with Diana, Sheila's neighbours, cities
