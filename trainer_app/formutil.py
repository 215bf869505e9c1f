"""Small WTForms helpers shared by the domain forms."""

from collections.abc import Iterable
from typing import Any

from wtforms.fields.choices import SelectChoice


def select_choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """WTForms 3.3+ wants SelectChoice objects instead of (value, label) tuples."""
    return [SelectChoice(value, label) for value, label in pairs]
