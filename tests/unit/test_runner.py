import pytest

from host import runner
from shared.errors import JobError


def test_plan_runs_everything_in_graph_order():
    from shared import graph
    order, forced = runner.plan([], None, None)
    assert order == [s.name for s in graph.topological_order()]
    assert order[0] == "demux" and order[-1] == "mux"
    assert order.index("silero-vad") < order.index("asr") < order.index("subtitles")
    assert forced == set()


def test_from_forces_the_stage_and_everything_after_it():
    _, forced = runner.plan([], "asr", None)
    assert {"asr", "subtitles", "mux"} <= forced
    assert not {"demux", "silero-vad"} & forced


def test_force_all_and_until():
    order, forced = runner.plan(["all"], None, "asr")
    assert order[-1] == "asr" and "subtitles" not in order and "mux" not in order
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


def test_run_graph_starts_each_stage_after_its_inputs_and_stops_after_a_failure(monkeypatch):
    import threading
    import time as clock

    from shared import graph

    # a diamond: a -> (b, c) -> d, with c failing when asked
    def fake_upstream(name):
        return {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}[name]

    monkeypatch.setattr(graph, "upstream", fake_upstream)
    monkeypatch.setattr(graph, "stage", lambda name: name)
    events, lock, active, peak = [], threading.Lock(), [0], [0]
    fail = set()

    def fake_process(spec, job, forced, flags, skip):
        with lock:
            events.append(("start", spec))
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        clock.sleep(0.05)
        with lock:
            active[0] -= 1
            events.append(("end", spec))
        return (1 if spec in fail else 0), {"status": "ran"}

    monkeypatch.setattr(runner, "run_stage_process", fake_process)
    order = ["a", "b", "c", "d"]
    outcomes, failure = runner.run_graph(None, order, set(), frozenset(), {n: [] for n in order}, parallel=2)
    assert failure is None and set(outcomes) == set(order)
    assert events.index(("end", "a")) < events.index(("start", "b"))
    assert events.index(("end", "b")) < events.index(("start", "d")) and events.index(("end", "c")) < events.index(("start", "d"))
    assert peak[0] == 2  # b and c side by side

    events.clear()
    fail.add("c")
    outcomes, failure = runner.run_graph(None, order, set(), frozenset(), {n: [] for n in order}, parallel=2)
    assert failure == ("c", 1)
    assert ("start", "d") not in events and "b" in outcomes  # b finished, d never started
