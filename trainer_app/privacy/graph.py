"""Which tables hold a client's data, derived from the models' foreign keys.

Every table with a chain of foreign keys ending at ``clients.id`` holds rows about some client;
the chain says how to find them. Export, erasure and the audit trail's "which client did this
page show" all walk these chains, so a table added later is found without being listed here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import ForeignKey, MetaData, Select, Table, select


@dataclass(frozen=True)
class Path:
    """The foreign keys from ``table`` to the target table, nearest first."""

    table: Table
    keys: tuple[ForeignKey, ...]

    @property
    def nullable(self) -> bool:
        """True when some link may be empty (a row can exist without any client)."""
        return any(fk.parent.nullable for fk in self.keys)

    @property
    def target_column(self):
        """The column holding the client's id at the end of the chain (e.g. programs.client_id)."""
        return self.keys[-1].parent if self.keys else self.table.primary_key.columns[0]

    def describe(self) -> str:
        if not self.keys:
            return self.table.name
        return " -> ".join(f"{fk.parent.table.name}.{fk.parent.name}" for fk in self.keys)

    def joined(self, stmt: Select) -> Select:
        """``stmt`` (selecting from this table) joined along the chain up to its last link."""
        for fk in self.keys[:-1]:
            stmt = stmt.join(fk.column.table, fk.parent == fk.column)
        return stmt

    def rows_of(self, target_id: int, *columns) -> Select:
        """This table's rows (or ``columns`` of them) whose chain ends at ``target_id``."""
        stmt = select(*columns) if columns else select(self.table)
        return self.joined(stmt.select_from(self.table)).where(self.target_column == target_id)


def _links(fk: ForeignKey) -> bool:
    # A row pointing at another row of its own table (a reused PDF naming its original)
    # says nothing about whose row it is.
    return fk.column.table is not fk.parent.table


def paths_to(metadata: MetaData, target: str) -> dict[str, Path]:
    """For each table that reaches ``target`` by foreign keys, the shortest such chain.

    Among equally short chains one of NOT NULL keys wins (programs reach clients through
    ``client_id`` rather than through their optional assessment). Worked out once per set of
    tables: every audited request asks (sorting the tables alone took about a millisecond).
    """
    return dict(_paths_to(metadata, target, frozenset(metadata.tables)))


@functools.cache
def _paths_to(metadata: MetaData, target: str, _names: frozenset[str]) -> dict[str, Path]:
    tables = metadata.tables
    found: dict[str, Path] = {target: Path(tables[target], ())}
    level = [target]
    while level:
        # One level at a time, so every equally short chain is weighed before one is chosen.
        candidates: dict[str, list[Path]] = {}
        for table in metadata.sorted_tables:
            if table.name in found:
                continue
            for fk in table.foreign_keys:
                if fk.column.table.name in level and _links(fk):
                    path = Path(table, (fk, *found[fk.column.table.name].keys))
                    candidates.setdefault(table.name, []).append(path)
        for name, options in candidates.items():
            options.sort(key=lambda p: (p.nullable, p.describe()))
            found[name] = options[0]
        level = sorted(candidates)
    return found


def client_paths(metadata: MetaData) -> dict[str, Path]:
    """Every table holding rows about a client (``clients`` itself included)."""
    return paths_to(metadata, "clients")
