"""Optional metadata from TMDB (themoviedb.org), fetched on the host at job creation.

With ``TMDB_API_KEY`` set, the job's title and year (the user's metadata.json,
else the file name: ``The.Big.Lebowski.1998.1080p.mkv``) are searched on TMDB
API v3, the film's (or series') details are cached in ``<job>/tmdb.json`` and
fill the gaps of the job's ``metadata.json``: title, year, synopsis, cast,
terms. The user's fields always win. A job with ``tmdb.json`` never asks
again, so reruns are offline and identical.

TMDB is optional: without a key nothing happens; an unreachable server, a
refused key or no match is one warning, and the job goes on with the user's
metadata. The key is never written, logged or put in an error message.

Standard library only: the container executor (python3 -m host.containers) runs this with the host's python3.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPRedirectHandler, Request, build_opener

from shared.errors import PipelineError
from shared.fsio import atomic_write_text, dumps_json, read_json
from shared.log import get_logger

log = get_logger("host.tmdb")

CACHE_FILE = "tmdb.json"
DEFAULT_API_URL = "https://api.themoviedb.org/3"
MAX_CAST = 30
MAX_TERMS = 10
GOES_ON = "the job goes on with the user's metadata only"

# Release tags: everything from the first of these on is not the title.
_TAG = re.compile(
    r"\b(?:2160p|1080[pi]|720p|576p|480p|4k|uhd|hdr(?:10)?|bluray|blu-ray|bdrip|brrip|remux|web-?dl|webrip|web|"
    r"hdtv|dvdrip|dvd|hdrip|x264|x265|h264|h265|hevc|xvid|divx|10bit|proper|repack|extended|unrated|"
    r"remastered|directors? cut|limited|imax)\b", re.IGNORECASE)
_EPISODE = re.compile(r"\b(?:s\d{1,2} ?e\d{1,3}|\d{1,2}x\d{2,3})\b", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# TMDB keywords that describe the film rather than words spoken in it.
_META_KEYWORD = re.compile(r"stinger|^based on|director$|^woman |^duringcredits|^aftercredits", re.IGNORECASE)
_CHARACTER_NOTE = re.compile(r"\s*\((?:voice|uncredited|archive footage|credit only)[^)]*\)", re.IGNORECASE)


@dataclass(frozen=True)
class TmdbOptions:
    """Job-creation settings, read from the host's environment (never passed to stages)."""

    api_key: str = field(default="", repr=False)  # a v3 API key, or a v4 read access token
    api_url: str = DEFAULT_API_URL
    timeout_s: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TmdbOptions:
        env = os.environ if env is None else env
        try:
            timeout_s = float(env.get("TMDB_TIMEOUT_S") or cls.timeout_s)
        except ValueError:
            log.warning("TMDB_TIMEOUT_S=%r is not a number of seconds; using %g", env["TMDB_TIMEOUT_S"], cls.timeout_s)
            timeout_s = cls.timeout_s
        return cls(api_key=(env.get("TMDB_API_KEY") or "").strip(),
                   api_url=(env.get("TMDB_API_URL") or DEFAULT_API_URL).strip().rstrip("/"), timeout_s=timeout_s)


@dataclass(frozen=True)
class Query:
    title: str
    year: int | None = None
    episode: bool = False  # the file name looks like an episode (S01E02): series first
    from_file_name: bool = False  # a guess: searched only with a year or an episode mark, matched exactly

    @property
    def searchable(self) -> bool:
        return bool(self.title) and (not self.from_file_name or self.year is not None or self.episode)

    def kinds(self) -> tuple[str, ...]:
        return ("tv", "movie") if self.episode else ("movie", "tv")

    def describe(self) -> str:
        return f"{self.title!r}" + (f" ({self.year})" if self.year else "")


class TmdbUnavailable(PipelineError):
    """TMDB gave nothing usable; the message holds no key."""


# --- what to ask ---------------------------------------------------------------------------------


def guess_from_file_name(name: str) -> Query:
    """Title and year from a release-style file name: ``Heat.1995.1080p.BluRay.x264.mkv`` -> Heat, 1995."""
    text = re.sub(r"\[[^\]]*\]", " ", Path(name).stem)
    text = re.sub(r"[._(){}]+", " ", text)
    episode = _EPISODE.search(text)
    if episode:
        text = text[:episode.start()]
    tag = _TAG.search(text)
    if tag:
        text = text[:tag.start()]
    years = [m for m in _YEAR.finditer(text) if text[:m.start()].strip()]  # "1917 2019": the title may be a year
    year = int(years[-1].group()) if years else None
    if years:
        text = text[:years[-1].start()]
    title = " ".join(text.split()).strip(" -")
    return Query(title or " ".join(Path(name).stem.split()), year, episode is not None, from_file_name=True)


def query_for(user: Mapping[str, Any], media_name: str) -> Query:
    """The user's title (and year) when metadata.json has one, else the file name's guess."""
    guess = guess_from_file_name(media_name)
    title = user.get("title")
    if isinstance(title, str) and title.strip():
        return Query(title.strip(), user.get("year"), guess.episode)
    return guess


# --- asking --------------------------------------------------------------------------------------


class _NoRedirect(HTTPRedirectHandler):
    """A redirect could carry the key to another host: refuse it (it becomes an HTTP error)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _is_bearer(key: str) -> bool:
    """A v4 read access token is a JWT (three dot-separated parts); a v3 key is 32 hex digits."""
    return key.count(".") == 2


def _reason(err: BaseException, options: TmdbOptions) -> str:
    """Why a request failed, in words that hold no URL (urllib's own messages carry the key)."""
    if isinstance(err, URLError) and isinstance(err.reason, BaseException):
        err = err.reason
    if isinstance(err, (TimeoutError, socket.timeout)):
        return f"no answer within {options.timeout_s:g} s"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return type(err).__name__


def _scrub(text: str, key: str) -> str:
    return text.replace(key, "***") if key else text


def get_json(options: TmdbOptions, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """GET ``{api_url}{path}`` with the key (bearer header or ``api_key``); the answer's JSON object."""
    query = {k: v for k, v in params.items() if v is not None}
    headers = {"Accept": "application/json", "User-Agent": "whisperx-pipeline"}
    if _is_bearer(options.api_key):
        headers["Authorization"] = f"Bearer {options.api_key}"
    else:
        query["api_key"] = options.api_key
    try:
        request = Request(f"{options.api_url.rstrip('/')}{path}?{urlencode(query)}", headers=headers)
        with build_opener(_NoRedirect).open(request, timeout=options.timeout_s) as response:
            body = response.read()
    except HTTPError as err:
        err.close()
        if err.code == 401:
            raise TmdbUnavailable("the key in TMDB_API_KEY was refused (HTTP 401)",
                                  "check TMDB_API_KEY: a v3 API key or a v4 read access token") from None
        raise TmdbUnavailable(f"HTTP {err.code} from {_scrub(options.api_url, options.api_key)}",
                              "check TMDB_API_URL and the network, or give metadata.json") from None
    except (OSError, ValueError, HTTPException) as err:  # URLError, timeouts, a broken answer, a bad URL
        raise TmdbUnavailable(f"cannot reach {_scrub(options.api_url, options.api_key)} "
                              f"({_scrub(_reason(err, options), options.api_key)})",
                              "check the network and TMDB_API_URL, or give metadata.json") from None
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise TmdbUnavailable(f"{_scrub(options.api_url, options.api_key)} answered something other than a JSON object",
                              "check TMDB_API_URL")
    return data


def normalized(title: str) -> str:
    """Letters and digits only, accents and case folded: "Amélie!" -> "amelie"."""
    decomposed = unicodedata.normalize("NFKD", title)
    return "".join(c for c in decomposed.casefold() if c.isalnum() and not unicodedata.combining(c))


def pick(results: Any, query: Query) -> dict[str, Any] | None:
    """The result whose title is the query's (TMDB ranks them); for a user's title, else the first."""
    hits = [r for r in results if isinstance(r, dict) and isinstance(r.get("id"), int)] \
        if isinstance(results, list) else []
    wanted = normalized(query.title)
    for hit in hits:
        names = (hit.get("title"), hit.get("original_title"), hit.get("name"), hit.get("original_name"))
        if any(isinstance(n, str) and normalized(n) == wanted for n in names):
            return hit
    return None if query.from_file_name or not hits else hits[0]


def fetch(options: TmdbOptions, query: Query) -> dict[str, Any]:
    """Search (film first, or series first for an episode), then the hit's details with
    credits and keywords. The record cached as ``tmdb.json``; raises TmdbUnavailable."""
    searches: dict[str, Any] = {}
    for kind in query.kinds():
        year_param = "year" if kind == "movie" else "first_air_date_year"
        searches[kind] = get_json(options, f"/search/{kind}", {"query": query.title, year_param: query.year})
        hit = pick(searches[kind].get("results"), query)
        if hit is not None:
            details = get_json(options, f"/{kind}/{hit['id']}", {"append_to_response": "credits,keywords"})
            return {"source": "TMDB (https://www.themoviedb.org); this product uses the TMDB API but is not "
                              "endorsed or certified by TMDB",
                    "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "base_url": _scrub(options.api_url, options.api_key), "query": asdict(query),
                    "kind": kind, "id": hit["id"], "search": searches, "details": details}
    raise TmdbUnavailable(f"no film or series {query.describe()} on TMDB",
                          "give metadata.json with the right title and year, or name the file Title.Year.ext")


# --- what it gives -------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def to_metadata(kind: str, details: Mapping[str, Any]) -> dict[str, Any]:
    """TMDB details as metadata.json fields: title, year, synopsis, cast (by billing, at most
    MAX_CAST), terms (keywords, at most MAX_TERMS). No places: TMDB does not list the film's."""
    movie = kind == "movie"
    date = _text(details.get("release_date" if movie else "first_air_date"))
    raw_credits, raw_keywords = details.get("credits"), details.get("keywords")
    credits: dict[str, Any] = raw_credits if isinstance(raw_credits, dict) else {}
    people = [p for p in credits.get("cast") or [] if isinstance(p, dict) and _text(p.get("name"))]
    people.sort(key=lambda p: p["order"] if isinstance(p.get("order"), int) else 1 << 30)
    keywords: dict[str, Any] = raw_keywords if isinstance(raw_keywords, dict) else {}
    words = [_text(k.get("name")) for k in keywords.get("keywords" if movie else "results") or [] if isinstance(k, dict)]
    return {
        "title": _text(details.get("title" if movie else "name")),
        "year": int(date[:4]) if re.match(r"\d{4}", date) else None,
        "synopsis": _text(details.get("overview")),
        "cast": [{"actor": _text(p["name"]), "character": _text(_CHARACTER_NOTE.sub("", _text(p.get("character"))))}
                 for p in people[:MAX_CAST]],
        "terms": [w for w in words if w and not _META_KEYWORD.search(w)][:MAX_TERMS],
    }


def _merge_cast(mine: list[dict[str, str]], theirs: list[dict[str, str]]) -> list[dict[str, str]]:
    """The user's cast, then TMDB's entries whose actor and character are both new."""
    merged = list(mine)
    for entry in theirs:
        known = {normalized(v) for m in merged for v in m.values()} - {""}
        if not ({normalized(entry.get("actor", "")), normalized(entry.get("character", ""))} & known):
            merged.append(entry)
    return merged


def merge(user: Mapping[str, Any], fetched: Mapping[str, Any]) -> dict[str, Any]:
    """The user's metadata with TMDB filling only what is empty. Merging again changes nothing."""
    merged = dict(user)
    for key in ("title", "year", "synopsis", "terms"):
        if not merged.get(key) and fetched.get(key):
            merged[key] = fetched[key]
    cast = _merge_cast(list(user.get("cast") or []), list(fetched.get("cast") or []))
    if cast:
        merged["cast"] = cast
    return merged


# --- the job's cache -----------------------------------------------------------------------------


def read_cache(root: Path) -> dict[str, Any] | None:
    try:
        record = read_json(root / CACHE_FILE)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("details"), dict) else None


def write_cache(root: Path, record: Mapping[str, Any], key: str) -> None:
    atomic_write_text(root / CACHE_FILE, _scrub(dumps_json(record), key))


def fields_for_job(root: Path, media_name: str, user: Mapping[str, Any], keep_cached: bool,
                   options: TmdbOptions) -> dict[str, Any] | None:
    """TMDB's metadata fields for the job in ``root``, or None. From ``tmdb.json`` when it was
    made for the same query (any query with ``keep_cached``: the user gave no new metadata),
    else fetched and cached when a key is set. Failures are one warning, never an error."""
    query = query_for(user, media_name)
    cached = read_cache(root)
    if cached is not None and (keep_cached or cached.get("query") == asdict(query)):
        log.debug("metadata from TMDB: %s %s, from the job's %s", cached.get("kind"), cached.get("id"), CACHE_FILE)
        return to_metadata(str(cached.get("kind")), cached["details"])
    (root / CACHE_FILE).unlink(missing_ok=True)  # made for another title: never merged again
    if not options.api_key:
        log.debug("TMDB_API_KEY is not set: no metadata from TMDB")
        return None
    if not query.searchable:
        log.warning("no metadata from TMDB: the file name %r has no year, so it was not searched (a bare title matches too much); "
                    "%s (give metadata.json with a title, or name the file Title.Year.ext)", media_name, GOES_ON)
        return None
    try:
        record = fetch(options, query)
    except TmdbUnavailable as err:
        log.warning("no metadata from TMDB: %s; %s (%s)", err.message, GOES_ON, err.hint)
        return None
    write_cache(root, record, options.api_key)
    # scrubbed like tmdb.json: an answer that echoes the key (a proxy's error page in the
    # overview, say) never carries it into metadata.json
    fields = json.loads(_scrub(dumps_json(to_metadata(record["kind"], record["details"])), options.api_key))
    log.info("metadata from TMDB for %s: %s %s %r (%s); cached in %s", query.describe(), record["kind"],
             record["id"], fields["title"], fields["year"], root / CACHE_FILE)
    return fields
