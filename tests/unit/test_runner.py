"""The native executor: stage processes in graph order (the lifecycle around them: test_lifecycle.py)."""

from host import runner


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
        return 1 if spec in fail else 0

    monkeypatch.setattr(runner, "run_stage_process", fake_process)
    order = ["a", "b", "c", "d"]
    codes, failure = runner.run_graph(None, order, set(), frozenset(), {n: [] for n in order}, parallel=2)
    assert failure is None and codes == dict.fromkeys(order, 0)
    assert events.index(("end", "a")) < events.index(("start", "b"))
    assert events.index(("end", "b")) < events.index(("start", "d")) and events.index(("end", "c")) < events.index(("start", "d"))
    assert peak[0] == 2  # b and c side by side

    events.clear()
    fail.add("c")
    codes, failure = runner.run_graph(None, order, set(), frozenset(), {n: [] for n in order}, parallel=2)
    assert failure == ("c", 1)
    assert ("start", "d") not in events and codes["b"] == 0  # b finished, d never started
