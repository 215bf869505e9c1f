"""Every form of the app: control characters are refused in every text field, once for all."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import FieldList, FormField, PasswordField, StringField, TextAreaField
from wtforms.fields.choices import SelectFieldBase

import trainer_app
from trainer_app.formutil import (
    SafeForm,
    _leaf_fields,
    first_control_character,
    first_invisible_format_character,
)


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def app_forms() -> list[type]:
    """Every FlaskForm subclass defined in the app (each package's forms module imported)."""
    for module in pkgutil.walk_packages(trainer_app.__path__, "trainer_app."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    forms = [f for f in _all_subclasses(FlaskForm) if f.__module__.startswith("trainer_app.")]
    return sorted(set(forms), key=lambda f: f"{f.__module__}.{f.__name__}")


def _seed(form) -> dict[str, str]:
    """Form data that makes each FieldList hold one entry, so its inner fields exist."""
    seed = {}
    for field in form:
        if isinstance(field, FieldList):
            inner = field.unbound_field
            if inner.field_class is FormField:
                first = next(iter(inner.args[0]()._fields))
                seed[f"{field.name}-0-{first}"] = ""
            else:
                seed[f"{field.name}-0"] = ""
    return seed


def _build(form_class, data: dict[str, str]):
    form = form_class(formdata=MultiDict(data))
    for field in _leaf_fields(form):
        if isinstance(field, SelectFieldBase) and getattr(field, "choices", []) is None:
            field.choices = []  # set per request by the views; irrelevant here
    return form


def text_fields(app) -> list[tuple[type, str, bool]]:
    """(form class, field name, multi-line) for every text field of every form."""
    found = []
    with app.test_request_context(method="POST"):
        for form_class in app_forms():
            form = _build(form_class, {})
            seed = _seed(form)
            for field in _leaf_fields(_build(form_class, seed)):
                if isinstance(field, StringField | SelectFieldBase):
                    found.append((form_class, field.name, isinstance(field, TextAreaField)))
    return found


def test_every_form_derives_from_the_safe_base():
    forms = app_forms()
    assert len(forms) >= 15, [f.__name__ for f in forms]
    assert [f.__name__ for f in forms if not issubclass(f, SafeForm)] == []


@pytest.mark.parametrize("bad", ["\x00", "\x1b", "\x7f", "\x85", "\x9f", "\x0b", "\x0c"])
def test_every_text_field_of_every_form_refuses_control_characters(app, bad):
    fields = text_fields(app)
    assert len(fields) >= 40
    missed = []
    with app.test_request_context(method="POST"):
        for form_class, name, _multiline in fields:
            seed = _seed(_build(form_class, {}))
            form = _build(form_class, {**seed, name: f"Maria{bad}Jensen"})
            assert form.validate() is False
            field = next(f for f in _leaf_fields(form) if f.name == name)
            if not any(f"(U+{ord(bad):04X})" in error for error in field.errors):
                missed.append(f"{form_class.__name__}.{name}")
    assert missed == []


def test_line_breaks_and_tabs_only_in_multi_line_fields(app):
    refused, allowed = [], []
    with app.test_request_context(method="POST"):
        for form_class, name, multiline in text_fields(app):
            seed = _seed(_build(form_class, {}))
            form = _build(form_class, {**seed, name: "first\r\n\tsecond"})
            form.validate()
            field = next(f for f in _leaf_fields(form) if f.name == name)
            said = any("control character" in error for error in field.errors)
            (allowed if multiline else refused).append(said)
    assert allowed and not any(allowed)
    assert refused and all(refused)


@pytest.mark.parametrize("bad", ["\u202e", "\u2066", "\u200f", "\ufeff", "\u2028", "\u2029"])
def test_one_line_fields_refuse_bidi_and_separators_and_text_areas_keep_them(app, bad):
    refused, allowed = [], []
    with app.test_request_context(method="POST"):
        for form_class, name, multiline in text_fields(app):
            seed = _seed(_build(form_class, {}))
            form = _build(form_class, {**seed, name: f"Maria{bad}Jensen"})
            form.validate()
            field = next(f for f in _leaf_fields(form) if f.name == name)
            said = any(f"formatting character (U+{ord(bad):04X})" in e for e in field.errors)
            kept = multiline or isinstance(field, PasswordField)
            (allowed if kept else refused).append((f"{form_class.__name__}.{name}", said))
    assert refused and [n for n, said in refused if not said] == []
    assert allowed and [n for n, said in allowed if said] == []


def test_first_invisible_format_character():
    assert first_invisible_format_character("Zoë 王芳 مريم") is None
    # Joiners are part of Persian names and emoji sequences.
    assert first_invisible_format_character("می\u200cخواهم 👩\u200d💻") is None
    assert first_invisible_format_character("Anna\u202e") == "\u202e"
    assert first_invisible_format_character("a\u2028b") == "\u2028"


def test_first_control_character():
    assert first_control_character("Zoë 王芳 \u202e") is None  # not a C0/C1 control
    assert first_control_character("a\nb") == "\n"
    assert first_control_character("a\nb\tc\r", multiline=True) is None
    assert first_control_character("a\nb\x00", multiline=True) == "\x00"
