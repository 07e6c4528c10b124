import pytest

from shared import runner
from shared.errors import JobError


def test_plan_runs_everything_in_graph_order():
    order, forced = runner.plan([], None, None)
    assert order == ["demux", "silero-vad", "asr", "subtitles", "mux"]
    assert forced == set()


def test_from_forces_the_stage_and_everything_after_it():
    _, forced = runner.plan([], "asr", None)
    assert forced == {"asr", "subtitles", "mux"}


def test_force_all_and_until():
    order, forced = runner.plan(["all"], None, "asr")
    assert order == ["demux", "silero-vad", "asr"]
    assert {"demux", "mux"} <= forced


def test_unknown_stage_in_flags_is_an_error():
    with pytest.raises(JobError):
        runner.plan(["asrr"], None, None)


def test_stage_option_flags_are_forwarded_under_the_stage_name():
    args = runner.build_parser().parse_args(["in.wav", "--asr-model", "base", "--silero-vad-threshold", "0.6"])
    from shared import graph
    assert runner._stage_flags(args, graph.stage("asr")) == ["--model", "base"]
    assert runner._stage_flags(args, graph.stage("silero-vad")) == ["--threshold", "0.6"]
    assert runner._stage_flags(args, graph.stage("mux")) == []
