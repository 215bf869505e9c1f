"""Login sessions: a server-side row per signed-in browser, so sign-out really ends it."""

from __future__ import annotations

import secrets

from flask import Flask, request, session
from flask_login import login_user, logout_user
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from trainer_app.accounts.models import LoginSession, User
from trainer_app.extensions import db, login_manager


def init_login(app: Flask) -> None:
    """Configure Flask-Login for this app."""
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """Find the user of a live login session (None signs the browser out)."""
    row = db.session.scalar(
        select(LoginSession)
        .where(LoginSession.token == token)
        .options(joinedload(LoginSession.user))  # every request needs both: one round trip
    )
    if row is None or not row.user.is_active:
        return None
    user = row.user
    user.session_token = token
    return user


def start_session(user: User, *, remember: bool) -> None:
    """Sign ``user`` in with a fresh session (no data carried over from before sign-in)."""
    session.clear()
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            token=token,
            user_id=user.id,
            user_agent=(request.user_agent.string or "")[:200],
        )
    )
    db.session.flush()
    user.session_token = token
    login_user(user, remember=remember)


def end_session(user: User) -> None:
    """Sign out this browser: delete its session row (the caller commits), clear the cookies."""
    if user.session_token:
        db.session.execute(delete(LoginSession).where(LoginSession.token == user.session_token))
    logout_user()
    session.clear()


def end_other_sessions(user: User) -> None:
    """Sign out every other browser of ``user`` (after a password change)."""
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.token != user.session_token
        )
    )
