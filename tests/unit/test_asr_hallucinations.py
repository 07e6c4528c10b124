"""stages/asr/hallucinations.py: each rule takes out what it must (a case that would stay
without it) and keeps real speech next to it; every removal is recorded with its reason."""

from dataclasses import replace

from shared.schema import Region, Removed, Segment, Transcript, Word
from stages.asr.hallucinations import Rules, compression_ratio, normalized, remove

SPEECH = [Region(0.0, 10.0)]


def seg(text: str, start: float = 1.0, step: float = 0.4, no_speech: float = 0.05, logprob: float = -0.3) -> Segment:
    words = tuple(Word(start + k * step, start + (k + 1) * step - 0.05, " " + w, 0.9) for k, w in enumerate(text.split()))
    return Segment(start, start + step * len(words), " " + text, words, logprob, no_speech)


def texts(segments):
    return [s.text.strip() for s in segments]


def test_real_speech_is_kept_untouched():
    segments = [seg("And so my fellow Americans, ask not what your country can do for you."),
                seg("No, no, no, I never said that.", start=6.0)]
    kept, removed = remove(segments, SPEECH, "en")
    assert kept == segments and removed == []


def test_no_speech_segment_with_low_confidence_is_removed():
    ghost = seg("I'm going to go to the store.", start=5.0, no_speech=0.85, logprob=-1.4)
    kept, removed = remove([seg("Hello there."), ghost], SPEECH, "en")
    assert texts(kept) == ["Hello there."]
    assert [(r.reason, r.text) for r in removed] == [("no_speech", "I'm going to go to the store.")]
    assert "0.85" in removed[0].detail
    # either figure alone is not enough: confident text where the decoder doubted speech stays
    assert remove([replace(ghost, avg_logprob=-0.4)], SPEECH, "en")[1] == []


def test_looping_text_is_removed_by_its_compression_ratio():
    loop = seg("the end of the line " * 12, start=2.0, step=0.1)  # 60 words in 6 s, each 50 ms long
    assert compression_ratio(loop.text) > Rules().compression_ratio_max
    kept, removed = remove([loop], SPEECH, "en")
    assert kept == [] and removed[0].reason == "compression_ratio"


def test_speech_that_really_repeats_is_kept():
    """A line said again and again (jfk.flac looped: 22 words a time, confident, spoken lengths)
    compresses like a loop; its words say it is speech. Removing it lost 127 of 131 s of speech."""
    line = "And so my fellow Americans ask not what your country can do for you ask what you can do for your country "
    repeated = seg(line * 3, start=0.0, step=0.45)
    assert compression_ratio(repeated.text) > Rules().compression_ratio_max
    assert remove([repeated], [Region(0.0, 40.0)], "en") == ([repeated], [])


def test_known_phantom_phrase_is_removed_in_its_language_and_in_english():
    kept, removed = remove([seg("Thank you for watching!"), seg("Subtitles by the Amara.org community", start=4.0)],
                           SPEECH, "en")
    assert kept == [] and {r.reason for r in removed} == {"phantom_phrase"}
    kept, removed = remove([seg("Untertitel im Auftrag des ZDF, 2021"), seg("Ich gehe nach Hause.", start=5.0)],
                           SPEECH, "de")
    assert texts(kept) == ["Ich gehe nach Hause."] and removed[0].reason == "phantom_phrase"
    # a phantom phrase inside a longer line is dialogue
    assert remove([seg("I said thank you for watching the kids.")], SPEECH, "en")[1] == []


def test_generic_phrase_is_removed_only_where_speech_is_doubtful():
    doubtful = seg("Thank you.", no_speech=0.45, logprob=-0.5)
    assert remove([doubtful], SPEECH, "en")[1][0].reason == "phantom_phrase"
    assert remove([replace(doubtful, no_speech_prob=0.05)], SPEECH, "en")[1] == []


def test_words_outside_every_speech_region_are_removed():
    regions = [Region(0.0, 2.0), Region(20.0, 22.0)]
    segment = seg("one two three four five six seven", start=0.5, step=0.5)  # words up to 4.0 s
    kept, removed = remove([segment], regions, "en")
    assert texts(kept) == ["one two three four"]
    assert kept[0].end_s == kept[0].words[-1].end_s
    assert [(r.reason, r.text) for r in removed] == [("outside_speech", "five six seven")]
    assert removed[0].start_s >= 2.0


def test_a_phrase_repeated_in_a_run_keeps_its_first_time_across_segments():
    segments = [seg("I love you. I love you.", start=1.0), seg("I love you. I love you.", start=3.0),
                seg("Goodbye.", start=6.0)]
    kept, removed = remove(segments, SPEECH, "en", Rules(compression_ratio_max=99))
    assert texts(kept) == ["I love you.", "Goodbye."]
    assert [r.reason for r in removed] == ["repetition"]
    assert normalized(removed[0].text) == "i love you i love you i love you"


def test_one_word_said_three_times_is_speech_four_times_a_loop():
    assert remove([seg("No, no, no.")], SPEECH, "en")[1] == []
    kept, removed = remove([seg("no no no no no no", start=1.0)], SPEECH, "en", Rules(compression_ratio_max=99))
    assert texts(kept) == ["no"] and removed[0].reason == "repetition"


def test_removals_survive_the_transcript_file():
    record = Removed("Thanks for watching!", 12.0, 13.5, "phantom_phrase", "known phantom phrase (en)")
    transcript = Transcript("en", 1.0, 20.0, (seg("Hello."),), removed=(record,))
    assert Transcript.from_json(transcript.to_json()).removed == (record,)
    assert Transcript.from_json({**transcript.to_json(), "removed": []}).removed == ()


def test_a_word_stretched_back_over_a_pause_starts_where_its_speech_does():
    # Whisper put "And" at 79.6-82.3 s: the walla region ends at 80.2, the speech resumes at 82.1
    regions = [Region(65.0, 80.2), Region(82.136, 84.4)]
    words = (Word(79.6, 82.276, " And", 0.1), Word(82.276, 83.0, " so", 0.9))
    kept, removed = remove([Segment(79.6, 83.0, " And so", words, -0.2, 0.1)], regions, "en")
    assert removed == []
    assert kept[0].words[0] == Word(82.136, 82.276, " And", 0.1) and kept[0].start_s == 82.136
    assert kept[0].words[1] == words[1]


def test_a_word_stretched_over_the_pause_after_it_ends_with_its_line():
    # "answered." ends a line at 5.29 s; Whisper ran it into the music that starts at 5.8 s
    regions = [Region(0.8, 5.288), Region(5.816, 6.6), Region(7.35, 9.1)]
    words = (Word(4.0, 4.45, " nobody", 0.9), Word(4.452, 5.92, " answered.", 0.99), Word(8.77, 9.0, " I", 0.2))
    kept, removed = remove([Segment(4.0, 9.0, " nobody answered. I", words, -0.2, 0.1)], regions, "en")
    assert removed == [] and kept[0].words[1] == Word(4.452, 5.288, " answered.", 0.99)
    # neighbours on both sides: nothing to go by, the word stays
    middle = (Word(7.4, 8.0, " I", 0.9), Word(8.772, 25.4, " was", 0.9), Word(25.412, 25.6, " at", 0.9))
    regions = [Region(7.35, 9.1), Region(25.0, 29.3)]
    assert remove([Segment(7.4, 25.6, " I was at", middle, -0.2, 0.1)], regions, "en")[0][0].words == middle
