"""Options: one dataclass per stage, units in field names, one name per setting.

This module is the machinery; each stage's dataclass lives in its own module
(``shared/options/asr.py`` ...), named by the stage graph, so a stage's code
hash and image cover only its own options.

Each field carries its environment variable and a help line in its metadata.
Values resolve in one order, lowest first:

    dataclass default < job config file (config.json) < environment < command-line flag

and the resolved values are recorded in the stage's lock. A dict (from JSON,
the environment or argv) is converted into the options class once, here.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from shared.errors import InputError


def setting(default: Any, env: str, help: str, choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with its environment variable and a help line."""
    meta = {"env": env, "help": help, "choices": choices}
    if isinstance(default, (list, dict, set)):
        raise TypeError("use tuples for sequence defaults")
    return field(default=default, metadata=meta)


# --- conversion at the boundary --------------------------------------------------------------


def fields_of(options_cls: type) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(options_cls)


def _convert(options_cls: type, f: dataclasses.Field, raw: Any, origin: str) -> Any:
    hint = typing.get_type_hints(options_cls)[f.name]
    where = f"{f.name} ({origin})"
    value: Any
    try:
        if hint is bool:
            if isinstance(raw, bool):
                value = raw
            elif str(raw).strip().lower() in ("1", "true", "yes", "on"):
                value = True
            elif str(raw).strip().lower() in ("0", "false", "no", "off"):
                value = False
            else:
                raise ValueError(raw)
        elif hint is int:
            if isinstance(raw, bool):
                raise ValueError(raw)
            value = int(raw)
        elif hint is float:
            value = float(raw)
        elif hint == tuple[str, ...]:
            items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
            value = tuple(str(item).strip() for item in items if str(item).strip())
        else:
            value = str(raw)
    except (TypeError, ValueError):
        raise InputError(f"option {where}: {raw!r} is not a valid {getattr(hint, '__name__', hint)}") from None
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise InputError(f"option {where}: {value!r} is not one of {', '.join(choices)}")
    return value


def resolve(
    options_cls: type,
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
):
    """Build the options: defaults < config < environment < flags."""
    environ = os.environ if environ is None else environ
    config = dict(config or {})
    flags = dict(flags or {})
    names = {f.name for f in fields_of(options_cls)}
    for source, given in (("job config", config), ("command line", flags)):
        unknown = set(given) - names
        if unknown:
            raise InputError(
                f"unknown option(s) {', '.join(sorted(unknown))} in {source} for {options_cls.__name__}; "
                f"known: {', '.join(sorted(names))}"
            )
    values: dict[str, Any] = {}
    for f in fields_of(options_cls):
        env = f.metadata.get("env")
        if f.name in flags and flags[f.name] is not None:
            values[f.name] = _convert(options_cls, f, flags[f.name], "command line")
        elif env and environ.get(env, "") != "":
            values[f.name] = _convert(options_cls, f, environ[env], f"environment {env}")
        elif f.name in config:
            values[f.name] = _convert(options_cls, f, config[f.name], "job config")
    return options_cls(**values)


def to_dict(options: Any) -> dict[str, Any]:
    """JSON-ready values (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(options).items()}
