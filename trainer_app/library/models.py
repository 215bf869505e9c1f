"""Exercises a clinic adds to its own library (the built-in catalog stays read-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trainer_app.extensions import db
from trainer_app.timeutil import utcnow


class ClinicExercise(db.Model):
    """A clinic's own exercise; ``data`` has the catalog's exercise fields, validated on save."""

    __tablename__ = "clinic_exercises"
    __table_args__ = (UniqueConstraint("clinic_id", "slug", name="uq_clinic_exercises_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ExerciseMedia(db.Model):
    """A clinic's own photo and video link for one exercise (built-in or its own).

    For that clinic the photo replaces the product's drawing wherever the exercise is shown.
    """

    __tablename__ = "exercise_media"
    __table_args__ = (
        UniqueConstraint("clinic_id", "exercise_slug", name="uq_exercise_media_slug"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    exercise_slug: Mapped[str] = mapped_column(String(80))
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    photo_mime: Mapped[str | None] = mapped_column(String(30), nullable=True)
    video_url: Mapped[str | None] = mapped_column(String(300), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
