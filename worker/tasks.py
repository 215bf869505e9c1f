"""Thin Celery tasks: ids in, call the domain function, let it record the outcome."""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy.exc import OperationalError

from trainer_app.accounts import emails as account_emails
from trainer_app.delivery import service as delivery
from trainer_app.extensions import db
from trainer_app.jobs import BULK, enqueue
from trainer_app.plans import prerender
from trainer_app.plans import service as plans
from trainer_app.prints import service as prints
from trainer_app.privacy import retention
from trainer_app.privacy import service as privacy
from trainer_app.referrals import service as referrals
from trainer_app.timeutil import utcnow

log = logging.getLogger(__name__)
# A database outage is transient: retry with backoff rather than lose the job.
RETRY_ON_DATABASE_OUTAGE = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name=plans.RENDER_TASK, bind=True, **RETRY_ON_DATABASE_OUTAGE)
def render_plan_document(self, document_id: int) -> str:
    """Render one plan document (a database outage is retried with backoff)."""
    try:
        outcome = plans.render_document(document_id, claim_id=self.request.id)
        # The last document of a day's print moves its batch on to the merge.
        for batch_id in prints.waiting_on(document_id):
            if prints.advance(batch_id):
                enqueue(prints.MERGE_TASK, batch_id, queue="pdf")
        return outcome
    finally:
        db.session.remove()


@shared_task(name=prints.PREPARE_TASK, bind=True, **RETRY_ON_DATABASE_OUTAGE)
def prepare_print_batch(self, batch_id: int) -> int:
    """Request every client's documents of a batch; the renders go out as BULK jobs."""
    try:
        published = prints.prepare(
            batch_id,
            claim_id=self.request.id,
            publish=lambda document_id: enqueue(
                plans.RENDER_TASK, document_id, queue="pdf", priority=BULK
            ),
        )
        # Renders that finished before the batch was marked rendering, or documents all
        # reused: the batch may be complete already.
        if prints.advance(batch_id):
            enqueue(prints.MERGE_TASK, batch_id, queue="pdf")
        return published
    finally:
        db.session.remove()


@shared_task(name=prints.MERGE_TASK, bind=True, **RETRY_ON_DATABASE_OUTAGE)
def merge_print_batch(self, batch_id: int) -> str:
    """Merge a batch's documents into its one PDF."""
    try:
        return prints.merge(batch_id, claim_id=self.request.id)
    finally:
        db.session.remove()


@shared_task(name=referrals.RENDER_TASK, bind=True, **RETRY_ON_DATABASE_OUTAGE)
def render_referral_letter(self, letter_id: int) -> str:
    """Render one referral letter (a database outage is retried with backoff)."""
    try:
        return referrals.render_letter(letter_id, claim_id=self.request.id)
    finally:
        db.session.remove()


@shared_task(name=prerender.PRERENDER_TASK, **RETRY_ON_DATABASE_OUTAGE)
def publish_prerender(document_id: int) -> str:
    """After a save's quiet period: publish its pre-render if no later save replaced it."""
    try:
        return prerender.publish_when_quiet(document_id)
    finally:
        db.session.remove()


@shared_task(name=prerender.REBRAND_TASK, **RETRY_ON_DATABASE_OUTAGE)
def rebrand_prerenders(clinic_id: int) -> int:
    """After a branding change: render the clinic's printed programs again, at low priority."""
    try:
        recorded = prerender.rebrand(clinic_id)
        db.session.commit()
        return plans.publish(recorded)
    finally:
        db.session.remove()


@shared_task(name=delivery.SEND_TASK, bind=True, **RETRY_ON_DATABASE_OUTAGE)
def send_delivery(self, delivery_id: int) -> str:
    """Send one delivery; a transient mail failure schedules the next attempt."""
    try:
        outcome = delivery.send_delivery(delivery_id, claim_id=self.request.id)
        if outcome.retry_in is not None:
            # If this publish fails the row stays "retrying" and the relay publishes it.
            enqueue(delivery.SEND_TASK, delivery_id, queue="email", countdown=outcome.retry_in)
        return outcome.status
    finally:
        db.session.remove()


@shared_task(name=account_emails.SEND_TASK, bind=True, **RETRY_ON_DATABASE_OUTAGE)
def send_account_email(self, email_id: int) -> str:
    """Send one account email (its link is made here, never carried in the message)."""
    try:
        outcome = account_emails.send_account_email(email_id, claim_id=self.request.id)
        if outcome.retry_in is not None:
            enqueue(account_emails.SEND_TASK, email_id, queue="email", countdown=outcome.retry_in)
        return outcome.status
    finally:
        db.session.remove()


@shared_task(name=privacy.EXPORT_TASK, bind=True, **RETRY_ON_DATABASE_OUTAGE)
def build_export(self, export_id: int) -> str:
    """Build one data export's zip (a client's or the whole clinic's)."""
    try:
        return privacy.build_export(export_id, claim_id=self.request.id)
    finally:
        db.session.remove()


@shared_task(name="privacy.housekeeping")
def data_rights_housekeeping() -> dict:
    """Drop expired export zips; erase clients archived past their clinic's retention period."""
    try:
        now = utcnow()
        expired = privacy.expire_exports(now)
        db.session.commit()
        erased = retention.run_retention(now)
        if expired or erased:
            log.info("dropped %s expired export zips, erased %s clients", expired, erased)
        return {"expired_exports": expired, "erased_clients": erased}
    finally:
        db.session.remove()


@shared_task(name="trainer.relay")
def relay() -> dict:
    """Publish again every job that is still queued after a while (broker was down, etc.)."""
    try:
        now = utcnow()
        documents = plans.due_for_relay(now)
        deliveries = delivery.due_for_relay(now)
        mails = account_emails.due_for_relay(now)
        letters = referrals.due_for_relay(now)
        exports = privacy.due_for_relay(now)
        to_prepare, to_advance, to_merge = prints.due_for_relay(now)
        db.session.commit()
        to_merge += [batch_id for batch_id in to_advance if prints.advance(batch_id)]
        published = {
            "documents": plans.publish(documents),
            "deliveries": sum(enqueue(delivery.SEND_TASK, i, queue="email") for i in deliveries),
            "referral_letters": sum(
                enqueue(referrals.RENDER_TASK, i, queue="pdf") for i in letters
            ),
            "account_emails": sum(
                enqueue(account_emails.SEND_TASK, i, queue="email") for i in mails
            ),
            "exports": sum(
                enqueue(privacy.EXPORT_TASK, i, queue=privacy.EXPORT_QUEUE) for i in exports
            ),
            "print_batches": sum(enqueue(prints.PREPARE_TASK, i, queue="pdf") for i in to_prepare)
            + sum(enqueue(prints.MERGE_TASK, i, queue="pdf") for i in to_merge),
        }
        if documents or deliveries or mails or letters or exports:
            log.info("relay re-published %s", published)
        return published
    finally:
        db.session.remove()
