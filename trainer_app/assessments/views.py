"""Assessment pages: questionnaire, results with red flags and confirmation, comparison."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from trainer_app.accounts import roles
from trainer_app.assessments import service
from trainer_app.assessments.forms import (
    AssessmentForm,
    ClearanceForm,
    ConfirmForm,
    questionnaire_sections,
    retest_start,
)
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.questionnaire import default_questionnaire, validate_answers
from trainer_app.assessments.scoring import compare as compare_results
from trainer_app.audit.service import audited
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.formutil import select_choices
from trainer_app.library.bodymap import REGION_NAMES
from trainer_app.library.catalog import default_catalog
from trainer_app.tenancy import get_or_404

bp = Blueprint("assessments", __name__, url_prefix="/assessments")


# Clinical pages: owners and trainers only; the front desk gets a 403 saying why.
roles.guard(bp, *roles.CLINICAL)


@bp.app_template_global()
def assessment_summary(assessment: Assessment) -> service.Summary:
    """Screening, top findings and red-flag state of an assessment, for the client page."""
    return service.summarize(assessment)


@bp.app_template_global()
def client_hold(client: Client) -> service.ClinicalHold | None:
    """The client's open red flag, if any: pages hide or refuse what it stops."""
    return service.clinical_hold(client.clinic_id, client.id)


@bp.app_template_global()
def version_hold(version) -> service.ClinicalHold | None:
    """What stops this program version being printed or emailed (red flag or review), if any."""
    return service.plan_hold(version)


@bp.app_template_global()
def hold_flags(hold: service.ClinicalHold) -> str:
    """The red flags behind a hold, named for clinical pages (see service.hold_flags_text)."""
    return service.hold_flags_text(hold)


@bp.app_template_global()
def client_clearance(client: Client) -> service.Clearance | None:
    """The client's latest medical clearance (shown on program pages, printed on plans)."""
    return service.current_clearance(client.clinic_id, client.id)


def _archived_message(client: Client) -> str:
    return (
        f"{client.name} is archived, so no new assessment can be recorded. Archived clients "
        "keep their history; restore the client to assess them again."
    )


@bp.route("/new/<int:client_id>", methods=["GET", "POST"])
@audited()
def new(client_id: int):
    client = get_or_404(Client, client_id)
    if client.is_archived:
        flash(_archived_message(client), "warning")
        return redirect(url_for("clients.detail", client_id=client.id))
    q = default_questionnaire()
    form = AssessmentForm()
    raw = request.form if request.method == "POST" else {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form_ok = form.validate_on_submit()
        answers, errors = validate_answers(q, request.form)
        if form_ok and not errors:
            assessment = service.record_assessment(
                client, trainer_id=current_user.id, answers=answers, notes=form.notes.data or ""
            )
            db.session.commit()
            if service.is_blocked(assessment):
                # the findings are not interpreted yet: the next step is the referral
                flash(
                    "Assessment saved. Red flags were reported: refer the client and record "
                    "their clearance before anything is confirmed.",
                    "warning",
                )
                anchor = "clearance"
            else:
                flash("Assessment saved. Review the findings and confirm what to treat.", "success")
                anchor = None
            return redirect(
                url_for("assessments.detail", assessment_id=assessment.id, _anchor=anchor)
            )
    previous = service.latest_assessment(client)
    last: dict[str, str] = {}
    if previous is not None:
        start, last = retest_start(q, previous.answers or {})
        if request.method == "GET":
            raw = start
    sections = questionnaire_sections(q, default_catalog(), raw, errors, last)
    return render_template(
        "assessments/new.html",
        client=client,
        form=form,
        sections=sections,
        errors=errors,
        version=q.version,
        previous=previous,
    )


def _confirm_form(assessment: Assessment, result) -> ConfirmForm:
    form = ConfirmForm()
    form.imbalances.choices = select_choices((i.slug, i.name) for i in result.imbalances)
    return form


def _render_detail(
    assessment: Assessment,
    *,
    clearance_form: ClearanceForm | None = None,
    confirm_form: ConfirmForm | None = None,
    selected: list[str] | None = None,
):
    result = service.result_of(assessment)
    catalog = default_catalog()
    weak, overactive = service.body_map_regions(result, catalog)
    previous = service.previous_assessment(assessment)
    return render_template(
        "assessments/detail.html",
        levels=default_questionnaire().red_flags.levels,
        a=assessment,
        client=assessment.client,
        result=result,
        catalog=catalog,
        region_names=REGION_NAMES,
        weak=weak,
        paired=[m for m in service.paired_regions(result, catalog) if m in REGION_NAMES],
        # weak only in the article's words (the clinical view holds them often overactive)
        article_only=[
            m
            for item in result.flagged
            if item.slug in catalog.imbalances
            for m in catalog.imbalances[item.slug].article_only_weak
        ],
        overactive=overactive,
        untested=[m for m in service.untested_regions(result) if m in REGION_NAMES],
        blocked=service.is_blocked(assessment),
        clearance=service.clearance_of(assessment, current_user.clinic.time_zone),
        clearance_form=clearance_form or ClearanceForm(formdata=None),
        confirm_form=confirm_form or _confirm_form(assessment, result),
        selected=selected if selected is not None else service.preselected_imbalances(assessment),
        previous=previous,
        program_url=(
            url_for("programs.new", assessment_id=assessment.id)
            if assessment.confirmed_at
            else None
        ),
    )


@bp.get("/<int:assessment_id>")
@audited()
def detail(assessment_id: int):
    return _render_detail(get_or_404(Assessment, assessment_id))


@bp.post("/<int:assessment_id>/clearance")
@audited()
def clearance(assessment_id: int):
    assessment = get_or_404(Assessment, assessment_id)
    form = ClearanceForm()
    if not assessment.result.get("blocked") or assessment.cleared_at is not None:
        flash("No clearance is needed for this assessment.", "info")
        return redirect(url_for("assessments.detail", assessment_id=assessment.id))
    if form.validate_on_submit():
        try:
            service.record_clearance(
                assessment,
                user_id=current_user.id,
                name=form.name.data,
                profession=form.profession.data,
                cleared_on=form.cleared_on.data,
                restrictions=form.restrictions.data or "",
                zone=current_user.clinic.time_zone,
            )
        except service.AssessmentRefused as exc:
            db.session.rollback()
            form.cleared_on.errors = [*form.cleared_on.errors, str(exc)]
            return _render_detail(assessment, clearance_form=form), 400
        db.session.commit()
        flash(
            "Clearance recorded. Plans of this client can be printed and emailed again, and "
            "you can confirm the imbalances to treat.",
            "success",
        )
        return redirect(
            url_for("assessments.detail", assessment_id=assessment.id, _anchor="confirm")
        )
    return _render_detail(assessment, clearance_form=form), 400


@bp.post("/<int:assessment_id>/confirm")
@audited()
def confirm(assessment_id: int):
    assessment = get_or_404(Assessment, assessment_id)
    result = service.result_of(assessment)
    form = _confirm_form(assessment, result)
    if service.is_blocked(assessment):
        flash(
            "Red flags were reported: refer the client and record the clearance before "
            "confirming what to treat.",
            "danger",
        )
        return redirect(url_for("assessments.detail", assessment_id=assessment.id))
    if form.validate_on_submit():
        service.confirm_imbalances(assessment, form.imbalances.data)
        db.session.commit()
        flash("Imbalances to treat confirmed.", "success")
        # the confirmation and its "Build program" button head the section the page opens at
        return redirect(
            url_for("assessments.detail", assessment_id=assessment.id, _anchor="confirm")
        )
    known = {i.slug for i in result.imbalances}
    chosen = [s for s in (form.imbalances.data or []) if s in known]
    return _render_detail(assessment, confirm_form=form, selected=chosen)


@bp.get("/<int:assessment_id>/compare")
@audited()
def compare(assessment_id: int):
    assessment = get_or_404(Assessment, assessment_id)
    previous = service.previous_assessment(assessment)
    result = service.result_of(assessment)
    # an uncleared red flag comes first: no change is interpreted until it is cleared
    blocked = service.is_blocked(assessment)
    changes = ()
    if previous is not None and not blocked:
        changes = compare_results(
            service.result_of(previous), service.result_of(assessment), default_questionnaire()
        )
    return render_template(
        "assessments/compare.html",
        a=assessment,
        client=assessment.client,
        previous=previous,
        changes=changes,
        blocked=blocked,
        red_flags=result.red_flags if blocked else (),
        levels=default_questionnaire().red_flags.levels,
    )
