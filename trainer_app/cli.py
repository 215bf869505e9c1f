"""Command line: `trainer-app <command>` (the Flask CLI bound to this app's factory)."""

from __future__ import annotations

import os

import click
from flask import Flask
from flask.cli import FlaskGroup

from trainer_app.extensions import db


def register_commands(app: Flask) -> None:
    """Attach the project's commands to ``app.cli``."""

    @app.cli.command("demo")
    def demo() -> None:
        """Create the demo trainer, clients and one assessed client (safe to run again)."""
        from trainer_app.demo import DEMO_EMAIL, DEMO_PASSWORD, load_demo

        load_demo()
        db.session.commit()
        click.echo(f"Demo sign-in: {DEMO_EMAIL} / {DEMO_PASSWORD}")

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True)
    @click.option("--workers", default=2, show_default=True, help="Celery worker processes.")
    def serve(host: str, port: int, workers: int) -> None:
        """Run the web server (gunicorn), a Celery worker and the relay schedule (beat).

        Each is restarted if it dies; all three stop with serve (Ctrl-C or SIGTERM).
        """
        import signal
        import sys
        import time

        from trainer_app.supervisor import Supervisor

        env = dict(os.environ, TRAINER_INSTANCE_PATH=app.instance_path)
        if not env.get("PUBLIC_URL"):
            # Links in emails (password resets, invitations) point where this command serves.
            env["PUBLIC_URL"] = served_url(host, port)
        celery = [sys.executable, "-m", "celery", "-A", "worker.celery_app"]
        web = [
            sys.executable, "-m", "gunicorn", "-c", "python:trainer_app.gunicorn_conf",
            "--bind", f"{host}:{port}", "--workers", "2", "--access-logfile", "-",
            "trainer_app.wsgi:app",
        ]  # fmt: skip
        worker = [
            *celery, "worker", "--loglevel=INFO", f"--concurrency={workers}",
            "-Q", "pdf,email,celery",
        ]  # fmt: skip
        # The scheduler is a process of its own, so a worker that dies cannot orphan it.
        scheduler = [*celery, "beat", "--loglevel=INFO"]
        supervisor = Supervisor(
            {"web": web, "worker": worker, "scheduler": scheduler},
            env,
            echo=click.echo,
        )

        def stop(_signum, _frame):
            # A SIGTERM (process manager, `timeout`) stops every child, like Ctrl-C does.
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        supervisor.start_all()
        click.echo(f"Serving on http://{host}:{port}/  (Ctrl-C stops web, worker and scheduler)")
        click.echo(f"Links in emails point to {env['PUBLIC_URL']} (set PUBLIC_URL to change it).")
        try:
            while True:
                supervisor.check()
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut this
            supervisor.stop_all()

    @app.cli.command("create-user")
    @click.option("--name", required=True)
    @click.option("--email", required=True)
    @click.option("--clinic", "clinic_name", required=True)
    @click.password_option()
    def create_user(name: str, email: str, clinic_name: str, password: str) -> None:
        """Create a trainer with a new clinic workspace (the same password rule as sign-up)."""
        from trainer_app.accounts.passwords import new_password_problem
        from trainer_app.accounts.service import EmailTaken, register_trainer

        problem = new_password_problem(password, [name, email, clinic_name])
        if problem:
            raise click.ClickException(f"Password refused: {problem}")
        try:
            register_trainer(name=name, email=email, password=password, clinic_name=clinic_name)
        except EmailTaken as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"Created {email}.")

    @app.cli.command("seed-clients")
    @click.option("--email", required=True, help="The clinic owner's email (created if new).")
    @click.option("--clients", "count", default=10_000, show_default=True, type=click.IntRange(1))
    @click.option("--clinic", "clinic_name", default="Large Clinic", show_default=True)
    @click.option("--password", envvar="SEED_PASSWORD", help="For a new owner (or SEED_PASSWORD).")
    def seed_clients(email: str, count: int, clinic_name: str, password: str | None) -> None:
        """Add many clients (a quarter assessed, half of those programmed) to a clinic, in bulk."""
        from trainer_app.accounts.passwords import new_password_problem
        from trainer_app.accounts.service import find_user_by_email, register_trainer
        from trainer_app.volume import seed_clients as seed

        owner = find_user_by_email(email)
        if owner is None:
            if not password:
                raise click.ClickException(f"No account {email}: give --password to create it.")
            problem = new_password_problem(password, ["Volume Trainer", email, clinic_name])
            if problem:
                raise click.ClickException(f"Password refused: {problem}")
            owner = register_trainer(
                name="Volume Trainer", email=email, password=password, clinic_name=clinic_name
            )
        counts = seed(owner, count)
        db.session.commit()
        click.echo(
            f"Seeded {counts.clients:,} clients ({counts.assessments:,} assessed, "
            f"{counts.programs:,} with a program) into {owner.clinic.name}."
        )


def served_url(host: str, port: int) -> str:
    """The base URL of a server bound to ``host``:``port``, as a browser on this machine reaches it.

    A wildcard address (all interfaces) is reached through loopback here; other machines need
    PUBLIC_URL set to the name they use.
    """
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104  (recognising it, not binding)
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _factory() -> Flask:
    from trainer_app import create_app

    return create_app()


def main() -> None:
    """Entry point of the `trainer-app` console script."""
    FlaskGroup(create_app=_factory, name="trainer-app")()


if __name__ == "__main__":
    main()
