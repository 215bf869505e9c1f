"""The tables holding a client's data are derived from the models; each needs a policy."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, Text

from trainer_app import models  # noqa: F401  (every table on the metadata)
from trainer_app.extensions import db
from trainer_app.privacy.graph import client_paths
from trainer_app.privacy.tables import (
    CLIENT_TABLES,
    DETACHED,
    client_tables,
    missing_policies,
)


def test_the_chains_follow_the_foreign_keys():
    paths = client_paths(db.metadata)
    assert paths["programs"].describe() == "programs.client_id"
    assert paths["delivery_attempts"].describe() == (
        "delivery_attempts.delivery_id -> deliveries.client_id"
    )
    assert paths["plan_documents"].describe() == (
        "plan_documents.program_version_id -> program_versions.program_id -> programs.client_id"
    )


def _with_new_table() -> MetaData:
    copy = MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(copy)
    Table(
        "body_measurements",
        copy,
        Column("id", Integer, primary_key=True),
        Column("client_id", ForeignKey("clients.id")),
        Column("note", Text),
    )
    Table(
        "measurement_notes",
        copy,
        Column("id", Integer, primary_key=True),
        Column("measurement_id", ForeignKey("body_measurements.id")),
    )
    return copy


def test_a_new_table_reaching_clients_without_a_policy_is_caught():
    copy = _with_new_table()
    assert missing_policies(copy) == ["body_measurements", "measurement_notes"]
    with pytest.raises(LookupError, match="body_measurements, measurement_notes"):
        client_tables(copy)


def test_detached_tables_can_let_go_of_the_client():
    # Erasure clears their link, so it must be a nullable column.
    paths = client_paths(db.metadata)
    detached = [name for name, policy in CLIENT_TABLES.items() if policy.kind == DETACHED]
    assert detached
    for name in detached:
        assert paths[name].keys[0].parent.nullable, name
