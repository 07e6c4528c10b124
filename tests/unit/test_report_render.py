"""The report page (host/report/render.py, report.js): self-contained, every job string escaped,
and what a browser shows: headless Chromium runs its script on a hand-built job."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from host.report import REPORT_FILE, write_report
from host.report.collect import collect
from host.report.render import render
from shared.job import Job
from tests.report_job import HOSTILE_CUE, build_job, dump_dom, read_png, screenshot


class _Scripts(HTMLParser):
    """Every element and attribute of a page, and the text of its scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def parse(page: str) -> _Scripts:
    parser = _Scripts()
    parser.feed(page)
    return parser


def test_the_page_is_self_contained_and_its_data_cannot_close_its_script(tmp_path):
    job = build_job(tmp_path / "film-1")
    page = render(collect(Job(job)))
    found = parse(page)
    assert [t for t, _ in found.tags if t == "script"] == ["script", "script"]  # the data and the code, nothing injected
    assert not [t for t, a in found.tags if t in ("link", "img", "iframe") or "src" in a]  # nothing fetched
    assert not re.search(r"https?://", page)
    data = json.loads(found.scripts[0])  # the JSON parses back, hostile text included
    assert data["tracks"][1]["cues"][1][2] == HOSTILE_CUE
    assert data["speakers"]["names"]["SPEAKER_00"] == "Ana <i>"
    assert "<script>document" not in page and "&lt;script&gt;document" in page  # the QC entry: escaped text
    assert "film-1 &lt;film&gt;.mkv" in page  # the input's name


def test_the_stage_table_qc_and_corrections_are_html_with_links_to_the_timeline(tmp_path):
    job = build_job(tmp_path / "film-2")
    page = render(collect(Job(job)))
    found = parse(page)
    jumps = [a for t, a in found.tags if t == "a" and a.get("data-jump")]
    qc = [a for a in jumps if a["data-track"]]
    assert [(a["data-track"], a["data-cue"], a["data-start"]) for a in qc] == [("film.en", "2", "4000"), ("film.es", "2", "4000")]
    assert any(a.get("data-label") == "Anna -> Ana" for a in jumps)  # a correction jumps to its time
    assert any(a.get("data-label") == "Thanks for watching!" for a in jumps)  # so does a hallucination removal
    assert "tiny.en" in page and "263" in page and "5.25" in page  # model, peak MB, wall s of asr
    assert 'title="/models/tiny.en"' in page


def test_write_report_puts_report_html_in_the_job_folder_and_keeps_it_small(tmp_path):
    job = build_job(tmp_path / "film-3")
    path = write_report(job)
    assert path == job / REPORT_FILE and path.is_file()
    assert path.stat().st_size < 60_000
    assert len(json.loads(parse(path.read_text()).scripts[0])["envelope"]["peak"]) == 1200  # 12 s in 10 ms buckets


def test_in_chromium_the_script_draws_the_timeline_and_lists_cues_as_text(tmp_path):
    job = build_job(tmp_path / "film-4")
    page = write_report(job)
    dom = dump_dom(page, tmp_path / "profile")
    assert 'data-ready="1"' in dom  # the script ran to its end
    assert 'data-pwned="1"' not in dom  # the cue's <script> did not run
    assert dom.count("&lt;script&gt;document.body.setAttribute") == 2  # text, in the cue list and in the QC entry
    assert "Line one\nline two" in dom and "Hola, Ana." in dom and "Hello there, Ana." in dom
    assert re.search(r'<tr class="cue bad" id="cue-1-2">', dom)  # the cue with a QC violation is marked
    assert re.search(r'id="view">0:00\.000 – 0:12\.000 of 0:12\.000<', dom)
    left, top, width, height = map(int, re.search(r'data-timeline="([\d,]+)"', dom).group(1).split(","))
    assert width > 500 and height > 150
    png = screenshot(page, tmp_path / "shot.png", tmp_path / "profile", (1000, top + height + 40))
    image_width, _, rows, bpp = read_png(png)
    background = {(255, 255, 255), (247, 249, 252)}  # the page and the lanes' stripes
    inked = total = 0
    for row in rows[top:top + height]:
        for x in range(left, min(left + width, image_width)):
            total += 1
            inked += tuple(row[x * bpp:x * bpp + 3]) not in background
    assert total and inked / total > 0.15, f"{inked} of {total} timeline pixels drawn"


def test_in_chromium_a_qc_entry_jumps_the_timeline_to_its_cue(tmp_path):
    page = write_report(build_job(tmp_path / "film-5"))
    dom = dump_dom(page, tmp_path / "profile", "#qc-2")  # the page clicks the second QC entry itself
    assert re.search(r'id="view">0:01\.000 – 0:09\.000 of 0:12\.000<', dom)  # zoomed onto 4.0-6.0 s, padded
    details = re.search(r'<div id="details">(.*?)</div>', dom, re.S).group(1)
    assert details.startswith("track film.es (es, translation), cue 2: 0:04.000 – 0:06.000")
    assert "&lt;script&gt;" in details and "QC max_chars_per_s: 31.5 (limit 20)" in details
    assert '<tr class="cue bad selected" id="cue-1-2">' in dom


def test_in_chromium_a_job_with_nothing_done_yet_still_renders(tmp_path):
    root = tmp_path / "bare"
    root.mkdir()
    (root / "job.json").write_text(json.dumps({"input": {"path": "/m/a.mkv", "name": "a.mkv"}}))
    dom = dump_dom(write_report(root), tmp_path / "profile")
    assert 'data-ready="1"' in dom and "no subtitle tracks in this job (yet)" in dom
    assert '<p id="qc-none">' in dom and "post-ner did not run" in dom
