"""host/tmdb.py: the file-name guess, the conversion and merge, and the fetch against a
loopback HTTP server (never the internet), through Job.create."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from host import tmdb
from host.jobs import create_job
from shared.metadata import parse_metadata
from tests.conftest import REPO_ROOT

V3_KEY = "0123456789abcdef0123456789abcdef"
V4_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiIwMTIzNDU2Nzg5YWJjZGVmIn0.c2lnbmF0dXJlLW5vdC1yZWFs"

SEARCH = {"page": 1, "total_results": 2, "results": [
    {"id": 999, "title": "The Big Lebowski Returns", "release_date": "1998-01-01"},
    {"id": 115, "title": "The Big Lebowski", "original_title": "The Big Lebowski", "release_date": "1998-03-06"},
]}
DETAILS = {
    "id": 115, "title": "The Big Lebowski", "release_date": "1998-03-06", "original_language": "en",
    "overview": "Jeffrey 'The Dude' Lebowski, a Los Angeles slacker who only wants to bowl ...",
    "credits": {"cast": [
        {"name": "John Goodman", "character": "Walter Sobchak", "order": 1},
        {"name": "Jeff Bridges", "character": "Jeffrey 'The Dude' Lebowski", "order": 0},
        {"name": "Sam Elliott", "character": "The Stranger (uncredited)", "order": 5},
        {"name": "Julianne Moore", "character": "Maude Lebowski", "order": 2},
        {"name": "", "character": "Nobody", "order": 3},
    ]},
    "keywords": {"keywords": [{"id": 1, "name": "bowling"}, {"id": 2, "name": "duringcreditsstinger"},
                              {"id": 3, "name": "nihilism"}]},
}
TV_DETAILS = {"id": 1396, "name": "Breaking Bad", "first_air_date": "2008-01-20", "overview": "A chemistry teacher ...",
              "credits": {"cast": [{"name": "Bryan Cranston", "character": "Walter White", "order": 0}]},
              "keywords": {"results": [{"name": "methamphetamine"}]}}
MEDIA_NAME = "The.Big.Lebowski.1998.1080p.BluRay.x264-GROUP.mkv"


# --- a loopback TMDB -----------------------------------------------------------------------------


class FakeTmdb:
    """Canned answers by path; records every request (path, query, headers)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.delay_s = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                url = urlsplit(self.path)
                fake.requests.append({"path": url.path, "query": parse_qs(url.query), "headers": dict(self.headers)})
                time.sleep(fake.delay_s)
                status, body = fake.routes.get(url.path, (404, {"status_message": "not found"}))
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (the timeout test)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/3"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def serve_lebowski(self) -> None:
        self.routes.update({"/3/search/movie": (200, SEARCH), "/3/movie/115": (200, DETAILS)})


@pytest.fixture
def fake_tmdb(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTmdb]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    fake = FakeTmdb()
    monkeypatch.setenv("TMDB_API_URL", fake.url)
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def media(tmp_path: Path) -> Path:
    path = tmp_path / MEDIA_NAME
    path.write_bytes(b"not really a film")
    return path


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/3"


def files_text(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "host.tmdb" and r.levelno == logging.WARNING]


# --- the guess -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, title, year, episode", [
    ("The.Big.Lebowski.1998.1080p.BluRay.x264.mkv", "The Big Lebowski", 1998, False),
    ("Blade.Runner.2049.2017.2160p.UHD.BluRay.mkv", "Blade Runner 2049", 2017, False),
    ("2001.A.Space.Odyssey.1968.REMASTERED.mkv", "2001 A Space Odyssey", 1968, False),
    ("1917.2019.1080p.WEB-DL.mp4", "1917", 2019, False),
    ("1917.mkv", "1917", None, False),
    ("Parasite (2019) [1080p] [YTS.MX].mp4", "Parasite", 2019, False),
    ("Spider-Man.No.Way.Home.2021.1080p.WEB-DL.DDP5.1.x264-GROUP.mkv", "Spider-Man No Way Home", 2021, False),
    ("Amélie_2001_DVDRip.avi", "Amélie", 2001, False),
    ("Heat.1995.Directors.Cut.1080p.mkv", "Heat", 1995, False),
    ("Breaking.Bad.S01E02.720p.HDTV.x264.mkv", "Breaking Bad", None, True),
    ("heat.mp4", "heat", None, False),
])
def test_title_and_year_from_a_file_name(name, title, year, episode):
    query = tmdb.guess_from_file_name(name)
    assert (query.title, query.year, query.episode, query.from_file_name) == (title, year, episode, True)


def test_a_file_name_without_year_is_not_searched_but_a_users_title_is():
    assert not tmdb.guess_from_file_name("jfk.flac").searchable
    assert tmdb.guess_from_file_name("Show.S02E03.mkv").searchable
    query = tmdb.query_for({"title": "Heat"}, "jfk.flac")
    assert query == tmdb.Query("Heat", None) and query.searchable
    assert tmdb.query_for({"title": " ", "year": 1995}, MEDIA_NAME).title == "The Big Lebowski"


# --- conversion and merge ------------------------------------------------------------------------


def test_details_become_metadata_fields():
    fields = tmdb.to_metadata("movie", DETAILS)
    assert fields["title"] == "The Big Lebowski" and fields["year"] == 1998
    assert fields["synopsis"].startswith("Jeffrey 'The Dude'")
    assert [c["actor"] for c in fields["cast"]] == ["Jeff Bridges", "John Goodman", "Julianne Moore", "Sam Elliott"]
    assert fields["cast"][3]["character"] == "The Stranger"
    assert fields["terms"] == ["bowling", "nihilism"]
    assert "places" not in fields and "language" not in fields
    parse_metadata(fields)


def test_series_details_and_odd_answers():
    fields = tmdb.to_metadata("tv", TV_DETAILS)
    assert (fields["title"], fields["year"], fields["terms"]) == ("Breaking Bad", 2008, ["methamphetamine"])
    assert tmdb.to_metadata("movie", {"credits": "?", "keywords": [], "release_date": None}) == \
        {"title": "", "year": None, "synopsis": "", "cast": [], "terms": []}


def test_cast_is_capped_by_billing():
    many = {"credits": {"cast": [{"name": f"Actor {i}", "character": f"Role {i}", "order": 99 - i} for i in range(50)]}}
    cast = tmdb.to_metadata("movie", many)["cast"]
    assert len(cast) == tmdb.MAX_CAST and cast[0]["actor"] == "Actor 49"


def test_the_users_fields_win_and_tmdb_fills_the_gaps():
    user = {"title": "Lebowski", "language": "en", "terms": [],
            "cast": [{"actor": "Jeff Bridges", "character": "The Dude"}, {"character": "Walter"}],
            "speakers": {"SPEAKER_00": "The Dude"}}
    fetched = tmdb.to_metadata("movie", DETAILS)
    merged = tmdb.merge(user, fetched)
    assert merged["title"] == "Lebowski" and merged["year"] == 1998 and merged["terms"] == ["bowling", "nihilism"]
    assert merged["speakers"] == user["speakers"] and merged["language"] == "en"
    assert merged["cast"][:2] == user["cast"]
    assert [c["actor"] for c in merged["cast"][2:]] == ["John Goodman", "Julianne Moore", "Sam Elliott"]
    assert tmdb.merge(merged, fetched) == merged  # merging again changes nothing
    assert list(tmdb.merge(merged, fetched)) == list(merged)  # nor the key order
    parse_metadata(merged)


def test_a_character_already_listed_is_not_added_twice():
    user = {"cast": [{"actor": "", "character": "walter sobchak"}]}
    merged = tmdb.merge(user, tmdb.to_metadata("movie", DETAILS))
    assert [c["actor"] for c in merged["cast"]] == ["", "Jeff Bridges", "Julianne Moore", "Sam Elliott"]


# --- asking TMDB ---------------------------------------------------------------------------------


def test_a_v3_key_goes_as_api_key_and_the_exact_title_is_picked(fake_tmdb):
    fake_tmdb.serve_lebowski()
    options = tmdb.TmdbOptions(V3_KEY, fake_tmdb.url, 2.0)
    record = tmdb.fetch(options, tmdb.guess_from_file_name(MEDIA_NAME))
    assert record["id"] == 115 and record["kind"] == "movie"
    search, details = fake_tmdb.requests
    assert search["path"] == "/3/search/movie"
    assert search["query"] == {"query": ["The Big Lebowski"], "year": ["1998"], "api_key": [V3_KEY]}
    assert details["path"] == "/3/movie/115"
    assert details["query"] == {"append_to_response": ["credits,keywords"], "api_key": [V3_KEY]}
    assert all("Authorization" not in r["headers"] for r in fake_tmdb.requests)


def test_a_v4_token_goes_as_a_bearer_header_only(fake_tmdb):
    fake_tmdb.serve_lebowski()
    tmdb.fetch(tmdb.TmdbOptions(V4_TOKEN, fake_tmdb.url, 2.0), tmdb.Query("The Big Lebowski", 1998))
    assert len(fake_tmdb.requests) == 2
    for request in fake_tmdb.requests:
        assert request["headers"]["Authorization"] == f"Bearer {V4_TOKEN}"
        assert "api_key" not in request["query"]


def test_an_episode_searches_series_first(fake_tmdb):
    fake_tmdb.routes.update({"/3/search/tv": (200, {"results": [{"id": 1396, "name": "Breaking Bad"}]}),
                             "/3/tv/1396": (200, TV_DETAILS)})
    record = tmdb.fetch(tmdb.TmdbOptions(V3_KEY, fake_tmdb.url, 2.0),
                        tmdb.guess_from_file_name("Breaking.Bad.S01E02.720p.mkv"))
    assert (record["kind"], record["id"]) == ("tv", 1396)
    assert [r["path"] for r in fake_tmdb.requests] == ["/3/search/tv", "/3/tv/1396"]
    assert "first_air_date_year" not in fake_tmdb.requests[0]["query"]


@pytest.mark.parametrize("api_url", ["not a url", "ftp://127.0.0.1/3"])
def test_failures_name_no_key(api_url):
    with pytest.raises(tmdb.TmdbUnavailable) as err:
        tmdb.get_json(tmdb.TmdbOptions(V3_KEY, api_url, 1.0), "/search/movie", {"query": "x"})
    assert V3_KEY not in str(err.value) and err.value.__cause__ is None and err.value.__suppress_context__


def test_an_answer_that_is_no_json_object_is_refused(fake_tmdb):
    fake_tmdb.routes["/3/search/movie"] = (200, "<html>captive portal</html>")
    with pytest.raises(tmdb.TmdbUnavailable, match="other than a JSON object"):
        tmdb.get_json(tmdb.TmdbOptions(V3_KEY, fake_tmdb.url, 1.0), "/search/movie", {"query": "x"})


def test_the_key_is_not_in_the_options_repr():
    assert V3_KEY not in repr(tmdb.TmdbOptions.from_env({"TMDB_API_KEY": V3_KEY}))


# --- through Job.create --------------------------------------------------------------------------


def test_job_create_fetches_once_and_reruns_are_identical(fake_tmdb, media, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    fake_tmdb.serve_lebowski()
    monkeypatch.setenv("TMDB_API_KEY", V3_KEY)
    jobs = tmp_path / "jobs"
    job = create_job(media, jobs_dir=jobs)
    metadata = json.loads((job.root / "metadata.json").read_text())
    assert metadata["title"] == "The Big Lebowski" and metadata["year"] == 1998 and len(metadata["cast"]) == 4
    cache = json.loads((job.root / "tmdb.json").read_text())
    assert cache["id"] == 115 and cache["base_url"] == fake_tmdb.url and cache["fetched_at"]
    assert cache["query"]["title"] == "The Big Lebowski" and cache["details"] == DETAILS
    first = (job.root / "metadata.json").read_bytes()
    assert len(fake_tmdb.requests) == 2

    create_job(media, jobs_dir=jobs)
    monkeypatch.setenv("TMDB_API_URL", closed_port_url())  # offline now
    create_job(media, jobs_dir=jobs)
    monkeypatch.delenv("TMDB_API_KEY")
    create_job(media, jobs_dir=jobs)
    assert len(fake_tmdb.requests) == 2
    assert (job.root / "metadata.json").read_bytes() == first
    assert not warnings_of(caplog)
    assert V3_KEY.encode() not in files_text(tmp_path)
    assert V3_KEY not in caplog.text


def test_the_users_metadata_wins_and_the_same_file_gives_the_same_bytes(fake_tmdb, media, tmp_path, monkeypatch):
    fake_tmdb.serve_lebowski()
    monkeypatch.setenv("TMDB_API_KEY", V4_TOKEN)
    given = tmp_path / "metadata.json"
    given.write_text(json.dumps({"title": "The Big Lebowski", "year": 1998, "synopsis": "Mine.",
                                 "cast": [{"actor": "Jeff Bridges", "character": "The Dude"}]}))
    job = create_job(media, jobs_dir=tmp_path / "jobs", metadata=given)
    first = (job.root / "metadata.json").read_bytes()
    merged = json.loads(first)
    assert merged["synopsis"] == "Mine." and merged["cast"][0] == {"actor": "Jeff Bridges", "character": "The Dude"}
    assert len(merged["cast"]) == 4 and merged["terms"] == ["bowling", "nihilism"]
    create_job(media, jobs_dir=tmp_path / "jobs", metadata=given)
    create_job(media, jobs_dir=tmp_path / "jobs")
    assert (job.root / "metadata.json").read_bytes() == first and len(fake_tmdb.requests) == 2
    assert V4_TOKEN.encode() not in files_text(tmp_path)


def test_another_title_fetches_again(fake_tmdb, media, tmp_path, monkeypatch):
    fake_tmdb.serve_lebowski()
    fake_tmdb.routes["/3/search/tv"] = (200, {"results": []})
    monkeypatch.setenv("TMDB_API_KEY", V3_KEY)
    job = create_job(media, jobs_dir=tmp_path / "jobs")
    given = tmp_path / "metadata.json"
    given.write_text(json.dumps({"title": "Heat"}))
    create_job(media, jobs_dir=tmp_path / "jobs", metadata=given)
    assert fake_tmdb.requests[2]["query"]["query"] == ["Heat"]
    assert not (job.root / "tmdb.json").exists()  # the Lebowski answers are not merged into Heat
    assert (job.root / "metadata.json").read_bytes() == given.read_bytes()


def test_without_a_key_nothing_is_asked(fake_tmdb, media, tmp_path, caplog):
    fake_tmdb.serve_lebowski()
    job = create_job(media, jobs_dir=tmp_path / "jobs")
    assert not fake_tmdb.requests and not warnings_of(caplog)
    assert not (job.root / "metadata.json").exists() and not (job.root / "tmdb.json").exists()


def test_an_unreachable_server_is_one_warning(media, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("TMDB_API_KEY", V3_KEY)
    monkeypatch.setenv("TMDB_API_URL", closed_port_url())
    given = tmp_path / "metadata.json"
    given.write_text('{"title": "The Big Lebowski"}\n')
    job = create_job(media, jobs_dir=tmp_path / "jobs", metadata=given)
    (warning,) = warnings_of(caplog)
    assert "cannot reach" in warning and "Connection refused" in warning and "user's metadata only" in warning and "network" in warning
    assert (job.root / "metadata.json").read_bytes() == given.read_bytes()
    assert not (job.root / "tmdb.json").exists()
    assert V3_KEY not in caplog.text and V3_KEY.encode() not in files_text(tmp_path)


def test_a_refused_key_names_the_setting(fake_tmdb, media, tmp_path, monkeypatch, caplog):
    fake_tmdb.routes["/3/search/movie"] = (401, {"status_code": 7, "status_message": "Invalid API key"})
    monkeypatch.setenv("TMDB_API_KEY", V3_KEY)
    job = create_job(media, jobs_dir=tmp_path / "jobs")
    (warning,) = warnings_of(caplog)
    assert "HTTP 401" in warning and "TMDB_API_KEY" in warning
    assert job.input_record().name == MEDIA_NAME and not (job.root / "metadata.json").exists()
    assert V3_KEY not in caplog.text


def test_no_match_and_a_slow_server_are_warnings(fake_tmdb, media, tmp_path, monkeypatch, caplog):
    fake_tmdb.routes.update({"/3/search/movie": (200, SEARCH | {"results": [SEARCH["results"][0]]}),
                             "/3/search/tv": (200, {"results": []})})
    monkeypatch.setenv("TMDB_API_KEY", V3_KEY)
    create_job(media, jobs_dir=tmp_path / "jobs")
    fake_tmdb.delay_s = 0.5
    monkeypatch.setenv("TMDB_TIMEOUT_S", "0.1")
    create_job(media, jobs_dir=tmp_path / "jobs")
    no_match, slow = warnings_of(caplog)
    assert "no film or series 'The Big Lebowski' (1998) on TMDB" in no_match
    assert "no answer within 0.1 s" in slow


def test_a_file_name_without_year_is_a_warning_not_a_search(fake_tmdb, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("TMDB_API_KEY", V3_KEY)
    media = tmp_path / "interview.wav"
    media.write_bytes(b"x")
    create_job(media, jobs_dir=tmp_path / "jobs")
    assert not fake_tmdb.requests
    assert "no year" in warnings_of(caplog)[0]


def test_the_stage_containers_are_never_given_the_key():
    for name in ("docker-compose.yml", "docker-compose-fallback.yml"):
        assert "TMDB" not in (REPO_ROOT / name).read_text(), name


def test_the_native_runner_fetches_at_job_creation(fake_tmdb, media, tmp_path, monkeypatch, capsys):
    from host import runner

    fake_tmdb.serve_lebowski()
    monkeypatch.setenv("TMDB_API_KEY", V3_KEY)
    monkeypatch.setattr(runner, "run_graph", lambda *args: ({}, None))  # job creation only, no stage runs
    monkeypatch.setattr(runner.logging_setup, "configure", lambda *args: None)  # leave the test's logging alone
    assert runner.main([str(media), "--jobs-dir", str(tmp_path / "jobs")]) == 0
    (folder,) = (tmp_path / "jobs").iterdir()
    assert json.loads((folder / "metadata.json").read_text())["title"] == "The Big Lebowski"
    assert len(fake_tmdb.requests) == 2
    assert V3_KEY not in "".join(capsys.readouterr())


def test_an_answer_that_echoes_the_key_leaves_it_out_of_metadata_json(fake_tmdb, media, tmp_path, monkeypatch):
    """metadata.json is scrubbed like tmdb.json: every TMDB-derived field, not only the cache."""
    echoed = {**DETAILS, "overview": f"request api_key={V3_KEY} logged", "keywords": {"keywords": [{"name": V3_KEY}]},
              "credits": {"cast": [{"name": "John Goodman", "character": f"Walter {V3_KEY}", "order": 0}]}}
    fake_tmdb.routes.update({"/3/search/movie": (200, SEARCH), "/3/movie/115": (200, echoed)})
    monkeypatch.setenv("TMDB_API_KEY", V3_KEY)
    job = create_job(media, jobs_dir=tmp_path / "jobs")
    metadata = json.loads((job.root / "metadata.json").read_text())
    assert metadata["synopsis"] == "request api_key=*** logged" and metadata["cast"][0]["character"] == "Walter ***"
    assert V3_KEY.encode() not in files_text(job.root)
