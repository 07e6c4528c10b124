"""Shot changes in subtitles: frame-accurate times and the snapping rules, in the order the
module gives (stages/subtitles/shots.py), and that snapping never breaks another rule."""

from __future__ import annotations

import json
import random

import pytest

from shared import schema
from shared.options.subtitles import SubtitleOptions
from shared.schema import FrameRate
from stages.subtitles import qc
from stages.subtitles.cues import Cue, CueWord
from stages.subtitles.layout import layout
from stages.subtitles.shots import ShotGrid, frame_options, load, snap
from stages.subtitles.timing import retime

FPS25 = FrameRate(25)
NTSC_FILM = FrameRate(24000, 1001)
OPTIONS = frame_options(SubtitleOptions(), ShotGrid(FPS25))  # gap: 2 frames = 80 ms


def cue(text: str, start_ms: int, end_ms: int) -> Cue:
    return Cue(start_ms, end_ms, (CueWord(0, start_ms, end_ms, text),), (1,))


def frames(grid: ShotGrid, cues) -> list[tuple[int, int]]:
    return [(grid.frame(c.start_ms), grid.frame(c.end_ms)) for c in cues]


def test_frame_options_make_the_minimum_gap_whole_frames():
    assert OPTIONS.min_gap_ms == 80  # 83 ms -> 2 frames at 25 fps
    assert frame_options(SubtitleOptions(), ShotGrid(NTSC_FILM)).min_gap_ms == 83  # 2 x 41.708 ms
    assert frame_options(SubtitleOptions(), ShotGrid(FrameRate(30000, 1001))).min_gap_ms == 66
    assert frame_options(SubtitleOptions(), ShotGrid(FrameRate(5))).min_gap_ms == 200  # never less than a frame
    assert frame_options(SubtitleOptions(min_gap_ms=0), ShotGrid(FPS25)).min_gap_ms == 0
    assert frame_options(SubtitleOptions(), None) == SubtitleOptions()


@pytest.mark.parametrize("rate", [FPS25, NTSC_FILM, FrameRate(30000, 1001)])
def test_times_land_on_frame_boundaries(rate):
    grid = ShotGrid(rate)
    cues = [cue("Hello there.", 1013, 2987), cue("And you.", 3311, 4450)]
    out = snap(cues, grid, frame_options(SubtitleOptions(), grid))
    for c in out:
        for ms in (c.start_ms, c.end_ms):
            assert abs(ms - grid.rate.frame_at(ms) * rate.frame_ms) <= 0.5, (ms, rate)
    assert [c.start_ms for c in out] == [grid.ms(grid.frame(1013)), grid.ms(grid.frame(3311))]


def test_a_start_shortly_after_a_cut_moves_back_onto_it():
    grid = ShotGrid(FPS25, (100,))  # cut at 4000 ms
    out = snap([cue("Somebody's at the door.", 4200, 6600)], grid, OPTIONS)  # 5 frames after
    assert frames(grid, out) == [(100, 165)]


def test_a_start_shortly_before_a_cut_moves_onto_it():
    grid = ShotGrid(FPS25, (100,))
    out = snap([cue("Somebody's at the door.", 3720, 6600)], grid, OPTIONS)  # 7 frames before
    assert frames(grid, out) == [(100, 165)]


def test_an_end_near_a_cut_ends_two_frames_before_it_from_either_side():
    grid = ShotGrid(FPS25, (100,))
    assert frames(grid, snap([cue("Somebody's at the door.", 1000, 3800)], grid, OPTIONS)) == [(25, 98)]  # 5 before
    assert frames(grid, snap([cue("Somebody's at the door.", 1000, 4320)], grid, OPTIONS)) == [(25, 98)]  # 8 after


def test_edges_twelve_frames_or_more_from_a_cut_stay():
    grid = ShotGrid(FPS25, (100,))
    out = snap([cue("Somebody's at the door.", 1000, 3520), cue("Who?", 4480, 5600)], grid, OPTIONS)
    assert frames(grid, out) == [(25, 88), (112, 140)]  # 12 frames before and after the cut


def test_when_the_cut_is_not_allowed_the_edge_goes_to_the_far_side():
    grid = ShotGrid(FPS25, (100,))
    # back at frame 98 the end would leave 20 chars 0.92 s (over 20 chars/s): it goes 12 frames past the cut
    out = snap([cue("x" * 20, 3000, 4080)], grid, OPTIONS)
    assert frames(grid, out) == [(75, 112)]
    # already over the cap, a cue is never made faster
    out = snap([cue("x" * 22, 3400, 4080)], grid, OPTIONS)
    assert frames(grid, out) == [(85, 112)]


def test_a_start_takes_room_from_the_cue_before_to_keep_the_gap():
    grid = ShotGrid(FPS25, (100,))
    before = cue("Fine.", 1000, 3960)  # ends 1 frame before the cut, at ease
    after = cue("x" * 30, 4040, 5600)  # starts 1 frame after it
    out = snap([before, after], grid, OPTIONS)
    assert frames(grid, out) == [(25, 98), (100, 140)]
    assert not qc.check(out, OPTIONS, grid)


def test_what_cannot_be_snapped_stays_and_qc_reports_it():
    grid = ShotGrid(FPS25, (100,))
    # the next cue starts 5 frames after the cut: the first cannot end 12 frames past it, and at
    # 2 frames before it its 15 characters would be over the reading-speed cap; the second
    # cannot start on the cut (the first would have to end earlier) nor 12 frames after it
    # (it would be shorter than the minimum)
    cues = [cue("x" * 15, 3200, 4100), cue("y" * 10, 4200, 5200)]
    out = snap(cues, grid, OPTIONS)
    assert frames(grid, out) == [(80, 103), (grid.frame(4200), grid.frame(5200))]
    found = [v for v in qc.check(out, OPTIONS, grid) if v.rule.startswith("shot_")]
    assert [(v.rule, v.cue, v.measured) for v in found] == [("shot_change_end", 1, 3), ("shot_change_start", 2, 5)]
    assert not [v for v in qc.check(out, OPTIONS) if not v.rule.startswith("shot_")]
    assert "cut at frame 100" in found[0].note
    assert "after a shot change" in qc.comment(json.loads(json.dumps(found[0].__dict__)))


def _words(rng: random.Random, n: int) -> list[CueWord]:
    out, at = [], 0
    for k in range(n):
        at += rng.choice((0, 40, 90, 200, 700))
        length = rng.randint(120, 600)
        out.append(CueWord(k, at, at + length, "w" * rng.randint(1, 9) + rng.choice(("", "", ",", "."))))
        at += length
    return out


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("rate", [FPS25, NTSC_FILM])
def test_snapping_breaks_no_other_rule_and_qc_lists_every_shot_problem(seed, rate):
    rng = random.Random(seed)
    words = _words(rng, 120)
    end = words[-1].end_ms + 2000
    cuts = tuple(sorted(rng.sample(range(1, rate.frame_at(end)), 25)))
    grid = ShotGrid(rate, cuts)
    options = frame_options(SubtitleOptions(), grid)
    plain = retime(layout(words, options, end), options, end)
    snapped = retime(layout(words, options, end), options, end, grid)
    other = {(v.cue, v.rule) for v in qc.check(plain, options)}
    assert {(v.cue, v.rule) for v in qc.check(snapped, options)} <= other
    shot_rules = {(v.cue, v.rule) for v in qc.check(snapped, options, grid) if v.rule.startswith("shot_")}
    for k, c in enumerate(snapped):
        if grid.start_problems(c.start_ms):
            assert (k + 1, "shot_change_start") in shot_rules
        if grid.end_problems(c.end_ms):
            assert (k + 1, "shot_change_end") in shot_rules
    unsnapped = sum(bool(grid.start_problems(c.start_ms)) + bool(grid.end_problems(c.end_ms)) for c in plain)
    assert len(shot_rules) < unsnapped  # snapping fixed most of them


def test_load_reads_the_shots_record_and_ignores_audio_only(tmp_path):
    path = tmp_path / "shots.json"
    schema.write(path, schema.ShotChanges(NTSC_FILM, 0, 300, (40, 77), (85.5, 43.1), "ffmpeg scdet", 10.0))
    grid = load({"shots": path}, SubtitleOptions(shot_snap_frames=8))
    assert grid == ShotGrid(NTSC_FILM, (40, 77), 8, 2)
    schema.write(path, schema.ShotChanges(None, None, 0, (), (), "ffmpeg scdet", 10.0))
    assert load({"shots": path}, SubtitleOptions()) is None
    assert load({}, SubtitleOptions()) is None
