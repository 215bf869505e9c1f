"""Shared pieces for the reviewed content files (YAML): strict types, reading, plain errors.

Pure module: the standard library, PyYAML and Pydantic. The catalog and the questionnaire
declare their fields as Pydantic models built from the types here; a mistake fails at
start-up with the file, the entry and the field named in plain words, so a clinician
editing the YAML can fix it without reading code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)

IDENT = re.compile(r"^[a-z][a-z0-9_]{0,59}\Z")
VERSION = re.compile(r"^[0-9]{4}\.[0-9]{1,2}\.[0-9]+\Z")
SOURCES_OF_STATEMENTS = ("article", "product")


# The seed article every "from the article" refers to: it names no author and no date, so it
# is cited by its title. Pages and the clinician copy name it once, in a note at the end.
ARTICLE_TITLE = "How Muscle Imbalances Lead to Back Pain?"
ARTICLE_CITATION = (
    f"“{ARTICLE_TITLE}” (a web article with no author or date given), the source of the four "
    "imbalances, their twelve exercises and the four screening questions"
)


class ContentError(ValueError):
    """Invalid content; the message names the file, the entry and the field.

    `problems` keeps each problem as (field path, plain message) for forms that show them
    next to their fields.
    """

    def __init__(self, message: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class Strict(BaseModel):
    """Base of every content model: unknown fields refused, frozen once built."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


def _collapse(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


def _non_empty(value: str) -> str:
    if not value:
        raise ValueError("must be a non-empty string, got an empty string")
    return value


def _ident(value: str) -> str:
    if not IDENT.match(value):
        raise ValueError(f"must be a slug (lower-case letters, digits, _), got {value!r}")
    return value


def _version(value: Any) -> str:
    if not isinstance(value, str) or not VERSION.match(value):
        raise ValueError(f'must be a quoted string like "2026.11.1", got {value!r}')
    return value


def vocabulary(words: Sequence[str], what: str) -> Any:
    """A string from a fixed vocabulary, named in errors ("unknown region 'bum' (known: …)")."""
    known = tuple(words)

    def check(value: Any) -> str:
        if value not in known:
            raise ValueError(f"unknown {what} {value!r} (known: {', '.join(known)})")
        return value

    return Annotated[str, BeforeValidator(check)]


def text(max_len: int) -> Any:
    """A non-empty string, whitespace collapsed, at most ``max_len`` characters."""

    def limit(value: str) -> str:
        if len(value) > max_len:
            raise ValueError(f"must be at most {max_len} characters")
        return value

    return Annotated[
        StrictStr, BeforeValidator(_collapse), AfterValidator(_non_empty), AfterValidator(limit)
    ]


Slug = Annotated[StrictStr, AfterValidator(_ident)]
Version = Annotated[str, BeforeValidator(_version)]
Flag = StrictBool
Whole = StrictInt


def unique(values: Sequence[Any]) -> Sequence[Any]:
    """Refuse a list that names an item twice (an AfterValidator for list fields)."""
    seen: set[Any] = set()
    for item in values:
        key = item if isinstance(item, str | int) else repr(item)
        if key in seen:
            raise ValueError(f"lists {item!r} twice")
        seen.add(key)
    return values


def describe(value: Any) -> str:
    """How a wrong value reads in an error message."""
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else f"the string {value!r}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return repr(value)
    return type(value).__name__


# --------------------------------------------------------------------------- reading


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when available
    """SafeLoader that refuses duplicate keys instead of silently keeping the last one."""


class _DuplicateKey(ValueError):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise _DuplicateKey(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, error: type[ContentError]) -> Any:
    """Parse a YAML file strictly (duplicate keys refused); errors name the file."""
    name = path.name
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{name}: cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return yaml.load(source, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        raise error(f"{name}: {exc}") from None
    except yaml.YAMLError as exc:
        raise error(f"{name}: not valid YAML: {exc}") from None


# --------------------------------------------------------------------------- plain errors


def _plain(err: Mapping[str, Any], allowed: Callable[[tuple], str]) -> str:
    """One Pydantic error in the words of someone editing the file."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        names = allowed(tuple(err["loc"][:-1]))
        return f"unknown field (allowed: {names})" if names else "unknown field"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, got {describe(value)}"
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        if bound == 1 or (kind == "greater_than" and bound == 0):
            return f"must be a positive whole number, got {describe(value)}"
        return f"must be at least {bound}, got {describe(value)}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {ctx.get('le', ctx.get('lt'))}, got {describe(value)}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, got {describe(value)}"
    if kind in ("string_type", "str_type"):
        return f"must be a non-empty string, got {describe(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {describe(value)}"
    if kind == "literal_error":
        expected = ctx.get("expected", "").replace("'", "")
        return f"must be one of {expected.replace(' or ', ', ')}; got {value!r}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {describe(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping, got {describe(value)}"
    if kind in ("too_short", "too_long"):
        low, high = ctx.get("min_length"), ctx.get("max_length")
        got = ctx.get("actual_length")
        if kind == "too_short" and high is None:
            return f"must have at least {low} items, got {got}"
        if kind == "too_long" and low is None:
            return f"must have at most {high} items, got {got}"
        return f"must have {low} to {high} items, got {got}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "assertion_error":
        return str(ctx.get("error", err["msg"]))
    return err["msg"][:1].lower() + err["msg"][1:]


def _allowed_names(model: type[BaseModel]) -> Callable[[tuple], str]:
    """For a location, the field names the model at that place accepts."""

    def names(loc: tuple) -> str:
        current: Any = model
        for part in loc:
            if isinstance(part, int):
                continue
            field = getattr(current, "model_fields", {}).get(part)
            if field is None:
                return ""
            current = _model_of(field.annotation)
            if current is None:
                return ""
        fields = getattr(current, "model_fields", None)
        return ", ".join(fields) if fields else ""

    return names


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def path_text(loc: Sequence[Any]) -> str:
    """("dose", "sets") -> "dose.sets"; ("steps", 1) -> "steps[2]" (positions from 1)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        elif part.startswith(("function-", "list[", "tuple[", "[")):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def explain(
    exc: ValidationError,
    model: type[BaseModel],
    *,
    where: str,
    entry: Callable[[tuple], tuple[str, tuple]],
    error: type[ContentError],
) -> ContentError:
    """A ContentError listing every problem as "<where>: <entry>.<field>: <message>".

    :param entry: splits an error location into the entry's name and the rest of the path.
    """
    allowed = _allowed_names(model)
    lines, problems = [], []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        name, rest = entry(loc)
        field = path_text(rest)
        message = _plain(err, allowed)
        if err["type"] in ("dict_type", "model_type", "model_attributes_type") and not field:
            lines.append(f"{where}: {name}: entry {message}")
        else:
            lines.append(f"{where}: {name}{'.' if name and field else ''}{field}: {message}")
        problems.append((field, message))
    return error("\n".join(lines), problems)


def entry_namer(doc: Any, list_key: str, label: str | None = None) -> Callable[[tuple], tuple]:
    """Name list entries by their slug (or id), else by position: exercises[3]."""

    def name(loc: tuple) -> tuple[str, tuple]:
        if len(loc) >= 2 and loc[0] == list_key and isinstance(loc[1], int):
            items = doc.get(list_key) if isinstance(doc, Mapping) else None
            raw = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
            key = raw.get("slug", raw.get("id")) if isinstance(raw, Mapping) else None
            if isinstance(key, str) and IDENT.match(key):
                return key, loc[2:]
            return f"{label or list_key}[{loc[1] + 1}]", loc[2:]
        return "", loc

    return name
