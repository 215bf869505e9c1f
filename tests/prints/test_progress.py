"""Progress of a day's print (n of N) and its move to the merge follow each client's documents."""

from __future__ import annotations

from datetime import date

from trainer_app.accounts.models import User
from trainer_app.extensions import db
from trainer_app.plans import service as plans
from trainer_app.prints import service
from trainer_app.prints.models import PrintBatch


def test_clients_count_as_done_when_left_out_or_every_document_settled(app, factories):
    owner = factories.user()
    people = [factories.client_record(owner, name=n) for n in ("Ada", "Bea", "Cy", "Dee")]
    for person in people[:3]:  # Dee has no program: left out when the batch is prepared
        factories.program_version(owner, person)
    published: list[int] = []
    with app.app_context(), app.test_request_context():
        user = db.session.get(User, owner.id)
        batch, _ = service.create_batch(
            user.clinic,
            user,
            client_ids=[p.id for p in people],
            what="both",
            duplex=False,
            day=date(2026, 12, 1),
            request_key="progress-counts-0001",
        )
        db.session.commit()
        batch_id = batch.id
        assert service.counts(batch) == (0, 4)  # queued: nothing prepared yet
        service.prepare(batch_id, "prepare-in-test", published.append)
        db.session.expire_all()
        batch = db.session.get(PrintBatch, batch_id)
        assert batch.status == "rendering" and len(published) == 6
        assert service.counts(batch) == (1, 4)  # Dee, left out
        by_client = {item.client_id: item for item in batch.items}
        ada, bea = by_client[people[0].id], by_client[people[1].id]
        # Ada's sheet alone is not enough: her plan is still waiting.
        assert plans.render_document(ada.session_document_id, claim_id="r1") == "ready"
        assert service.counts(batch) == (1, 4)
        assert plans.render_document(ada.plan_document_id, claim_id="r2") == "ready"
        assert service.counts(batch) == (2, 4)
        assert not service.advance(batch_id)
        for document_id in (bea.session_document_id, bea.plan_document_id):
            plans.render_document(document_id, claim_id=f"r-{document_id}")
        cy = by_client[people[2].id]
        plans.render_document(cy.session_document_id, claim_id="r5")
        assert service.counts(db.session.get(PrintBatch, batch_id)) == (3, 4)
        assert not service.advance(batch_id)
        plans.render_document(cy.plan_document_id, claim_id="r6")
        assert service.advance(batch_id)  # the last document moves the batch to the merge
        assert not service.advance(batch_id)  # once
        batch = db.session.get(PrintBatch, batch_id)
        assert batch.status == "merging" and service.counts(batch) == (4, 4)
        assert service.merge(batch_id, "merge-in-test") == "ready"
        db.session.expire_all()
        batch = db.session.get(PrintBatch, batch_id)
        assert service.counts(batch) == (4, 4)
        assert [i.status for i in batch.items] == ["printed", "printed", "printed", "left_out"]
