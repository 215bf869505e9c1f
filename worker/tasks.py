"""Thin Celery tasks: ids in, call the domain function, let it record the outcome."""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy.exc import OperationalError

from trainer_app.extensions import db
from trainer_app.jobs import enqueue
from trainer_app.plans import service as plans
from trainer_app.timeutil import utcnow

log = logging.getLogger(__name__)


@shared_task(
    name=plans.RENDER_TASK,
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
)
def render_plan_document(self, document_id: int) -> str:
    """Render one plan document (a database outage is retried with backoff)."""
    try:
        return plans.render_document(document_id, claim_id=self.request.id)
    finally:
        db.session.remove()


@shared_task(name="trainer.relay")
def relay() -> dict:
    """Publish again every job that is still queued after a while (broker was down, etc.)."""
    try:
        documents = plans.due_for_relay(utcnow())
        db.session.commit()
        published = sum(enqueue(plans.RENDER_TASK, doc_id, queue="pdf") for doc_id in documents)
        if documents:
            log.info("relay: %s plan documents re-published", published)
        return {"documents": published}
    finally:
        db.session.remove()
