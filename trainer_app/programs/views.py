"""Program pages: build from an assessment, view, edit into new versions, version history."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from trainer_app.accounts import roles
from trainer_app.assessments.hold import flash_hold
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.service import body_map_regions, clinical_hold
from trainer_app.audit.service import audited, not_audited
from trainer_app.clients.models import Client
from trainer_app.clients.service import client_query
from trainer_app.extensions import db
from trainer_app.formutil import select_choices
from trainer_app.library.catalog import EQUIPMENT, REGIONS, Catalog
from trainer_app.library.service import clinic_catalog, filter_exercises
from trainer_app.programs import service
from trainer_app.programs.builder import (
    BuildOptions,
    NotCovered,
    ProgramDraft,
    draft_from_dict,
    item_dose_text,
)
from trainer_app.programs.forms import (
    NOTE_MAX,
    BuildForm,
    CopyForm,
    EditForm,
    RetestForm,
    SaveTemplateForm,
    SearchForm,
    StartFromTemplateForm,
)
from trainer_app.programs.models import Program, ProgramTemplate, ProgramVersion
from trainer_app.security import MAX_ID, id_or_none
from trainer_app.tenancy import current_clinic_id, get_or_404, scoped
from trainer_app.timeutil import format_local

bp = Blueprint("programs", __name__, url_prefix="/programs")


# Clinical pages: owners and trainers only; the front desk gets a 403 saying why.
roles.guard(bp, *roles.CLINICAL)


# --------------------------------------------------------------------------- build


@bp.route("/new/<int:assessment_id>", methods=["GET", "POST"])
@audited()
def new(assessment_id: int):
    assessment = get_or_404(Assessment, assessment_id)
    refusal = service.build_refusal(assessment)
    result = service.assessment_result(assessment)
    form = BuildForm()
    if request.method == "GET":
        form.equipment.data = list(EQUIPMENT)
    hold = clinical_hold(assessment.clinic_id, assessment.client_id)
    context = {
        "assessment": assessment,
        "result": result,
        "form": form,
        "refusal": refusal,
        "hold": hold,
    }
    if refusal:
        return render_template("programs/new.html", **context), (
            409 if request.method == "POST" else 200
        )
    catalog = clinic_catalog(current_clinic_id())
    context["catalog"] = catalog
    context["targets"] = [
        (catalog.imbalances[s], _score(result, s))
        for s in assessment.confirmed_imbalances or []
        if s in catalog.imbalances
    ]
    context["cautions"] = [
        catalog.cautions[c.caution].label if c.caution in catalog.cautions else c.text
        for c in result.cautions
    ]
    context["pain_holds"] = service.pain_holds_of(result, catalog)
    if form.validate_on_submit():
        options = BuildOptions(
            level=form.level.data,
            sessions_per_week=form.sessions_per_week.data,
            weeks=form.weeks.data,
            equipment=frozenset(form.equipment.data or ()),
            max_exercises=form.max_exercises.data,
            release_limit=form.release_limit.data,
            skip_uncovered=bool(form.build_rest.data),
        )
        try:
            program = service.build_from_assessment(
                assessment, catalog, options, user_id=current_user.id, title=form.title.data or ""
            )
        except NotCovered as exc:
            db.session.rollback()
            context["gaps"] = exc.gaps
            context["build_rest"] = exc.covered
            context["gaps_equipment"] = exc.equipment
            return render_template("programs/new.html", **context)
        except ValueError as exc:
            db.session.rollback()
            context["build_error"] = str(exc)
            return render_template("programs/new.html", **context)
        db.session.commit()
        flash(
            "Program built. Check the doses, adjust anything you need, then make the PDF.",
            "success",
        )
        return redirect(url_for("programs.detail", program_id=program.id))
    return render_template("programs/new.html", **context)


def _score(result, slug: str):
    try:
        return result.imbalance(slug)
    except KeyError:
        return None


# --------------------------------------------------------------------------- view


def _version(program: Program, number: int) -> ProgramVersion:
    version = db.session.scalar(
        select(ProgramVersion).where(
            ProgramVersion.program_id == program.id,
            ProgramVersion.number == number,
            ProgramVersion.clinic_id == current_clinic_id(),
        )
    )
    if version is None:
        abort(404)
    return version


def _page_context(program: Program, version: ProgramVersion) -> dict:
    """What the detail and version pages show about one version."""
    catalog = clinic_catalog(current_clinic_id())
    draft = service.draft_of(version)
    imbalances = [catalog.imbalances[s] for s in draft.targets if s in catalog.imbalances]
    # The map shades what the results page shades (one function): a muscle weak only where a
    # test or observation of a targeted imbalance found it, on that side only when only that
    # side was weak, and tight only where a test found it; the list beside it reads as the
    # tests said (tested, no finding; unable (pain)) or "commonly paired with this pattern,
    # not tested". Without an assessment nothing was measured, so nothing is shaded.
    weak: list[str] = []
    overactive: list[str] = []
    tight: dict[str, str] = {}
    status: dict[tuple[str, str], object] = {}
    pain: tuple = ()
    if program.assessment is not None:
        result = service.assessment_result(program.assessment)
        for muscle in result.muscles:
            if muscle.claim == "tight" and muscle.status == "found":
                tight.setdefault(muscle.muscle, muscle.evidence)
        for im in imbalances:
            for m in im.weak_muscles:
                status[(m, "weak")] = result.muscle(m, "weak")
            for m in im.overactive_muscles:
                status[(m, "tight")] = result.muscle(m, "tight")
        pain = result.pain
        weak, overactive = body_map_regions(result, catalog, draft.targets)
    tips = {tip.slug: tip for tip in catalog.tips}
    return {
        "program": program,
        "version": version,
        "draft": draft,
        "summary": service.summary_lines(draft, catalog),
        "catalog": catalog,
        "imbalances": imbalances,
        "weak": weak,
        "overactive": overactive,
        "tips": [tips[slug] for slug in draft.tips if slug in tips],
        "dose_reasons": [
            service.dose_reason(item, draft.weeks, catalog.exercises.get(item.exercise_slug))
            for item in draft.items
        ],
        "versions": program.versions,
        "changes": service.version_changes(program.versions),
        "latest": program.latest,
        "dose_text": item_dose_text,
        "regions": REGIONS,
        "tight": tight,
        "muscle_status_of": status,
        "assessed": program.assessment is not None,
        "pain": pain,
        "caution_labels": {slug: c.label for slug, c in catalog.cautions.items()},
        "pain_holds": service.program_pain_holds(program, catalog),
    }


@bp.get("/<int:program_id>")
@audited()
def detail(program_id: int):
    program = get_or_404(Program, program_id)
    return render_template(
        "programs/detail.html",
        **_page_context(program, program.latest),
        **_reuse_forms(program),
    )


def _reuse_forms(program: Program, **forms) -> dict:
    """The re-test and template forms of the program page (fresh unless given)."""
    retest = forms.get("retest_form") or RetestForm(formdata=None, retest_on=program.retest_on)
    template = forms.get("template_form") or SaveTemplateForm(formdata=None, name=program.title)
    return {"retest_form": retest, "template_form": template}


def _detail_again(program: Program, status: int, **forms):
    """The program page again with a form's errors shown (nothing was saved)."""
    return render_template(
        "programs/detail.html",
        **_page_context(program, program.latest),
        **_reuse_forms(program, **forms),
    ), status


@bp.get("/<int:program_id>/versions/<int:number>")
@audited()
def version(program_id: int, number: int):
    program = get_or_404(Program, program_id)
    return render_template(
        "programs/version.html", **_page_context(program, _version(program, number))
    )


# --------------------------------------------------------------------------- edit


def _search(catalog: Catalog, values) -> tuple[SearchForm, list | None]:
    """The add-from-library search form and its results (None until the trainer searches).

    :param values: the query string (a bookmarked search) or the posted editor form.
    """
    search = SearchForm(values)
    search.imbalance.choices = select_choices(
        [("", "Any imbalance"), *((s, im.name) for s, im in catalog.imbalances.items())]
    )
    if "find" not in values and "searched" not in values:
        return search, None
    if not search.validate():
        return search, []
    return search, filter_exercises(
        catalog,
        q=search.q.data or "",
        imbalance=search.imbalance.data or "",
        muscle=search.muscle.data or "",
        equipment=search.equipment.data or "",
        kind=search.kind.data or "",
    )


def _ordered(form: EditForm) -> list:
    """The form's entries in the order the trainer set (position, then form order)."""
    return [
        entry
        for _, entry in sorted(
            enumerate(form.items.entries),
            key=lambda pair: (pair[1].form.position.data or 999, pair[0]),
        )
    ]


def _renumber(entries: list) -> None:
    for position, entry in enumerate(entries, 1):
        entry.form.position.data = position
        entry.form.position.raw_data = [str(position)]


def _labels(catalog: Catalog, pain) -> dict[str, str]:
    """Caution slug -> label for the warnings, with the tests stopped by pain."""
    labels = {slug: c.label for slug, c in catalog.cautions.items()}
    for hold in pain:
        labels.setdefault(
            hold.slug,
            f"{hold.test} was stopped by pain: this work is held back pending a clinician's look",
        )
    return labels


@bp.app_template_global()
def caution_label(slug: str) -> str:
    """A caution acknowledged on an item, as words (tests stopped by pain included)."""
    return service.caution_label(slug, clinic_catalog(current_clinic_id()))


def _added_by() -> str:
    return f"Added by {current_user.name}"


def _working_draft(
    base: ProgramDraft, form: EditForm, catalog: Catalog, cautions: frozenset[str], pain=()
) -> ProgramDraft:
    """The base version's draft plus the exercises added in this edit (nothing is stored).

    Added entries whose exercise left the library are dropped from the form.

    :raise service.ProgramError: an added exercise's caution was not acknowledged.
    """
    labels = _labels(catalog, pain)
    draft = base
    present = {item.exercise_slug for item in base.items}
    for entry in list(form.items.entries):
        sub = entry.form
        slug = sub.exercise_slug.data or ""
        if slug in present:
            continue
        exercise = catalog.exercises.get(slug) if sub.added.data else None
        if exercise is None:
            form.items.entries.remove(entry)
            continue
        draft = service.add_exercise(
            draft,
            exercise,
            (sub.reason.data or "").strip()[:NOTE_MAX] or _added_by(),
            cautions=cautions,
            acknowledged=bool(sub.acknowledged.data),
            labels=labels,
            pain=pain,
        )
        present.add(slug)
    return draft


def _add_to_form(
    form: EditForm,
    draft: ProgramDraft,
    catalog: Catalog,
    cautions: frozenset[str],
    slug: str,
    pain=(),
) -> str:
    """Append a library exercise to the unsaved form; returns what to tell the trainer.

    :raise service.ProgramError: it is already in the program, or its caution for this
        client was not acknowledged.
    """
    exercise = catalog.exercises.get(slug)
    if exercise is None:
        abort(404)
    entries = _ordered(form)
    for entry in entries:
        if entry.form.exercise_slug.data == slug:
            if entry.form.remove.data:
                entry.form.remove.data = False
                return f"{exercise.name} is kept after all. Save to keep your changes."
            raise service.ProgramError(f"{exercise.name} is already in this program.")
    reason = request.form.get(f"add_reason-{slug}", "").strip()[:NOTE_MAX]
    acknowledged = bool(request.form.get(f"add_ack-{slug}"))
    grown = service.add_exercise(
        draft,
        exercise,
        reason or _added_by(),
        cautions=cautions,
        acknowledged=acknowledged,
        labels=_labels(catalog, pain),
        pain=pain,
    )
    item = next(i for i in grown.items if i.exercise_slug == slug)
    form.items.append_entry(
        {
            "exercise_slug": slug,
            "sets": item.sets,
            "reps": item.reps,
            "hold_seconds": item.hold_seconds,
            "rest_seconds": item.rest_seconds,
            "notes": "",
            "remove": False,
            "added": "1",
            "reason": reason,
            "acknowledged": "1" if item.cautions else "",
        }
    )
    new = form.items.entries[-1]
    # release work is the warm-up: it joins the other release work at the start
    at = len(entries)
    if item.kind == "release":
        kinds = {i.exercise_slug: i.kind for i in draft.items}
        release = [
            n for n, e in enumerate(entries) if kinds.get(e.form.exercise_slug.data) == "release"
        ]
        at = release[-1] + 1 if release else 0
    entries.insert(at, new)
    _renumber(entries)
    return f"{exercise.name} added to the program below. Save to keep it."


def _move(form: EditForm, command: str) -> None:
    """Move one item up or down in the form (no save), for browsers without JavaScript."""
    direction, _, index = command.partition("-")
    entries = _ordered(form)
    order = [form.items.entries.index(e) for e in entries]
    if not index.isdigit() or int(index) not in order:
        return
    at = order.index(int(index))
    other = at - 1 if direction == "up" else at + 1
    if 0 <= other < len(entries):
        entries[at], entries[other] = entries[other], entries[at]
    _renumber(entries)


def _unsaved(form: EditForm, base: ProgramDraft) -> bool:
    """Whether the posted form differs from the version it was loaded from."""
    fresh = EditForm(formdata=None)
    fresh.fill(base.items, 0)
    wanted = [
        {k: v for k, v in entry.data.items() if k not in ("added", "reason", "acknowledged")}
        for entry in fresh.items.entries
    ]
    posted = [
        {k: v for k, v in entry.data.items() if k not in ("added", "reason", "acknowledged")}
        for entry in form.items.entries
    ]
    return wanted != posted


def _render_edit(
    program: Program,
    form: EditForm,
    base: ProgramDraft,
    status: int = 200,
    *,
    unsaved: bool = False,
    panel: tuple[str, str] | None = None,
    stale: ProgramVersion | None = None,
):
    """The editor: the unsaved items (the base version plus what was added) and the library."""
    catalog = clinic_catalog(current_clinic_id())
    search, results = _search(catalog, request.form if request.method == "POST" else request.args)
    cautions = service.program_cautions(program)
    pain = service.program_pain_holds(program, catalog)
    try:
        draft = _working_draft(base, form, catalog, cautions, pain)
    except service.ProgramError:
        # a forged form: show the saved version again rather than guess
        form.fill(base.items, form.base_version.data)
        draft = base
    labels = _labels(catalog, pain)
    conflicts = {
        ex.slug: [labels.get(c, c) for c in service.caution_conflicts(ex, cautions, pain)]
        for ex in (results or [])
    }
    in_program = {
        entry.form.exercise_slug.data for entry in form.items.entries if not entry.form.remove.data
    }
    return render_template(
        "programs/edit.html",
        conflicts=conflicts,
        caution_labels=labels,
        program=program,
        version=program.latest,
        base_number=form.base_version.data,
        draft=draft,
        form=form,
        entries=_ordered(form),
        items={item.exercise_slug: item for item in draft.items},
        search=search,
        results=results,
        in_program=in_program,
        catalog=catalog,
        dose_text=item_dose_text,
        unsaved=unsaved,
        panel=panel,
        stale=stale,
    ), status


@bp.route("/<int:program_id>/edit", methods=["GET", "POST"])
@audited()
def edit(program_id: int):
    program = get_or_404(Program, program_id)
    latest = program.latest
    form = EditForm()
    if request.method == "GET":
        draft = service.draft_of(latest)
        form.fill(draft.items, latest.number)
        return _render_edit(program, form, draft)

    # the items were loaded from this version; another may have been saved since
    base_number = form.base_version.data
    if not isinstance(base_number, int) or not 0 <= base_number <= MAX_ID:
        abort(400)
    base = service.draft_of(_version(program, base_number))
    catalog = clinic_catalog(current_clinic_id())
    cautions = service.program_cautions(program)
    pain = service.program_pain_holds(program, catalog)

    if request.form.get("find") or request.form.get("add") or request.form.get("move"):
        # work on the unsaved form only: nothing is validated or stored here
        panel = None
        if request.form.get("move"):
            _move(form, request.form["move"])
            flash("Order changed. Save to keep it.", "info")
        elif request.form.get("add"):
            try:
                draft = _working_draft(base, form, catalog, cautions, pain)
                slug = request.form["add"]
                panel = ("success", _add_to_form(form, draft, catalog, cautions, slug, pain))
            except service.CautionNotAcknowledged as exc:
                panel = ("danger", str(exc))
            except service.ProgramError as exc:
                panel = ("warning", str(exc))
        return _render_edit(program, form, base, unsaved=_unsaved(form, base), panel=panel)

    valid = form.validate()
    try:
        draft = _working_draft(base, form, catalog, cautions, pain)
    except service.ProgramError as exc:
        flash(str(exc), "danger")
        return _render_edit(program, form, base, 409, unsaved=True)
    items = {item.exercise_slug: item for item in draft.items}
    valid = form.check_doses(items) and valid
    if not valid:
        return _render_edit(program, form, base, unsaved=True)
    expected = form.replaces_version.data or base_number
    if expected != latest.number:
        return _stale(program, form, base, latest)
    edits = [
        service.ItemEdit(
            exercise_slug=entry.form.exercise_slug.data,
            sets=entry.form.sets.data,
            reps=entry.form.reps.data,
            hold_seconds=entry.form.hold_seconds.data,
            rest_seconds=entry.form.rest_seconds.data,
            notes=entry.form.notes.data or "",
            position=entry.form.position.data,
            remove=bool(entry.form.remove.data),
        )
        for entry in form.items.entries
    ]
    try:
        new_draft = service.apply_edits(draft, edits)
        saved = service.save_version(
            program,
            expected,
            new_draft,
            note=_change_note(form.change_note.data, new_draft, base, catalog=catalog),
            user_id=current_user.id,
        )
    except service.StaleVersion:
        db.session.rollback()
        return _stale(program, form, base, latest)
    except service.ProgramError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return _render_edit(program, form, base, 409, unsaved=True)
    try:
        db.session.commit()
    except IntegrityError:
        # another request took the same version number between our check and our insert
        db.session.rollback()
        return _stale(program, form, base, program.latest)
    flash(f"Saved as version {saved.number}.", "success")
    return redirect(url_for("programs.detail", program_id=program.id))


def _change_note(note: str, new: ProgramDraft, base: ProgramDraft, *, catalog: Catalog) -> str:
    """The trainer's note, plus who acknowledged a caution on an exercise added by hand."""
    before = {item.exercise_slug for item in base.items}
    acknowledged = [
        item for item in new.items if item.exercise_slug not in before and item.cautions
    ]
    for item in acknowledged:
        names = "; ".join(service.caution_label(c, catalog).lower() for c in item.cautions)
        note += f" ({item.name}: caution acknowledged by {current_user.name}: {names})"
    return note


def _stale(program: Program, form: EditForm, base: ProgramDraft, latest: ProgramVersion):
    """Refuse a save over a version someone saved meanwhile; keep every typed value."""
    form.replaces_version.data = latest.number
    form.replaces_version.raw_data = [str(latest.number)]
    return _render_edit(program, form, base, 409, unsaved=True, stale=latest)


# --------------------------------------------------------------------------- re-test date


@bp.post("/<int:program_id>/retest")
@audited()
def retest(program_id: int):
    program = get_or_404(Program, program_id)
    form = RetestForm()
    if not form.validate_on_submit():
        return _detail_again(program, 400, retest_form=form)
    try:
        service.set_retest_on(program, form.retest_on.data, current_user.clinic.time_zone)
    except service.ProgramError as exc:
        db.session.rollback()
        form.retest_on.errors = [str(exc)]
        return _detail_again(program, 400, retest_form=form)
    db.session.commit()
    if program.retest_on:
        flash(f"Re-test date set to {format_local(program.retest_on, None, 'date')}.", "success")
    else:
        flash("No re-test date planned for this program.", "info")
    return redirect(url_for("programs.detail", program_id=program.id, _anchor="reuse"))


# --------------------------------------------------------------------------- reuse


@bp.post("/<int:program_id>/versions/<int:number>/restore")
@audited()
def restore(program_id: int, number: int):
    program = get_or_404(Program, program_id)
    _version(program, number)
    try:
        saved = service.restore_version(program, number, user_id=current_user.id)
    except service.ProgramError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(url_for("programs.version", program_id=program.id, number=number))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(f"{service.StaleVersion()} Version {number} was not restored.", "danger")
        return redirect(url_for("programs.version", program_id=program.id, number=number))
    flash(f"Version {number} restored as version {saved.number}.", "success")
    return redirect(url_for("programs.detail", program_id=program.id))


@bp.post("/<int:program_id>/reviewed")
@audited()
def keep_reviewed(program_id: int):
    program = get_or_404(Program, program_id)
    base = id_or_none(request.form.get("base_number"))
    try:
        saved = service.keep_after_review(program, base or 0, user_id=current_user.id)
        db.session.commit()
    except service.NoReviewAwaited as refused:
        if refused.hold is not None:
            flash_hold(refused.hold, "The program was not marked as reviewed.")
        else:
            flash(str(refused), "info")
        return redirect(url_for("programs.detail", program_id=program.id))
    except (service.StaleVersion, IntegrityError):
        db.session.rollback()
        flash(f"{service.StaleVersion()} Nothing was saved.", "danger")
        return redirect(url_for("programs.detail", program_id=program.id))
    flash(
        f"Reviewed: kept unchanged as version {saved.number}. It can be printed and emailed.",
        "success",
    )
    return redirect(url_for("programs.detail", program_id=program.id))


@bp.post("/<int:program_id>/template")
@audited()
def save_template(program_id: int):
    program = get_or_404(Program, program_id)
    form = SaveTemplateForm()
    if not form.validate_on_submit():
        return _detail_again(program, 400, template_form=form)
    try:
        template = service.save_template(
            program, form.name.data, clinic_catalog(current_clinic_id()), user_id=current_user.id
        )
    except service.ProgramError as exc:
        db.session.rollback()
        form.name.errors = [str(exc)]
        return _detail_again(program, 409, template_form=form)
    db.session.commit()
    flash(f"Saved as the clinic template “{template.name}”.", "success")
    return redirect(url_for("programs.templates"))


COPY_CHOICES = 20


def _copy_page(program: Program, form: CopyForm, q: str, status: int = 200):
    """Pick the client to copy to: a search (accents and case ignored) over active clients."""
    stmt = client_query(current_clinic_id(), q=q, status="active", sort="name" if q else "-updated")
    candidates = db.session.scalars(
        stmt.where(Client.id != program.client_id).limit(COPY_CHOICES)
    ).all()
    return render_template(
        "programs/copy.html", program=program, form=form, q=q, candidates=candidates
    ), status


@bp.route("/<int:program_id>/copy", methods=["GET", "POST"])
@audited()
def copy(program_id: int):
    program = get_or_404(Program, program_id)
    q = request.args.get("q", "")[:100]
    if request.method == "GET":
        return _copy_page(program, CopyForm(formdata=None, title=program.title), q)
    form = CopyForm()
    if not form.validate_on_submit():
        return _copy_page(program, form, q, 400)
    target = get_or_404(Client, form.client_id.data)
    try:
        copied = service.copy_program(
            program,
            target,
            clinic_catalog(current_clinic_id()),
            title=form.title.data or "",
            user_id=current_user.id,
        )
    except service.ProgramError as exc:
        db.session.rollback()
        form.client_id.errors = [str(exc)]
        return _copy_page(program, form, q, 409)
    db.session.commit()
    flash(
        f"Copied to {target.name}. Check the doses for them, then make the PDF.",
        "success",
    )
    return redirect(url_for("programs.detail", program_id=copied.id))


@bp.get("/templates")
def templates():
    rows = db.session.scalars(
        scoped(ProgramTemplate).order_by(func.lower(ProgramTemplate.name), ProgramTemplate.id)
    ).all()
    return render_template(
        "programs/templates.html",
        templates=rows,
        drafts={row.id: draft_from_dict(row.content) for row in rows},
    )


@bp.post("/templates/<int:template_id>/delete")
@not_audited("a clinic template: exercises and doses, no client data")
def delete_template(template_id: int):
    template = get_or_404(ProgramTemplate, template_id)
    name = template.name
    db.session.delete(template)
    db.session.commit()
    flash(f"Template “{name}” deleted. Programs started from it keep their exercises.", "info")
    return redirect(url_for("programs.templates"))


def _template_choices() -> list[tuple[int, str]]:
    rows = db.session.scalars(
        scoped(ProgramTemplate).order_by(func.lower(ProgramTemplate.name), ProgramTemplate.id)
    )
    return [(row.id, row.name) for row in rows]


@bp.route("/start/<int:client_id>", methods=["GET", "POST"])
@audited()
def start(client_id: int):
    client = get_or_404(Client, client_id)
    hold = clinical_hold(client.clinic_id, client.id)
    if hold is not None:
        flash_hold(hold, "No program can be started for this client.")
        return redirect(url_for("clients.detail", client_id=client.id))
    form = StartFromTemplateForm()
    form.template_id.choices = select_choices(_template_choices())
    template_id = id_or_none(request.args.get("template"))
    if request.method == "GET" and template_id is not None:
        form.template_id.data = template_id
    if form.validate_on_submit():
        template = get_or_404(ProgramTemplate, form.template_id.data)
        try:
            program = service.start_from_template(
                template, client, title=form.title.data or "", user_id=current_user.id
            )
        except service.ProgramError as exc:
            db.session.rollback()
            flash(str(exc), "warning")
            return redirect(url_for("clients.detail", client_id=client.id))
        db.session.commit()
        flash(
            f"Program started from “{template.name}”. Check the doses for {client.name}, "
            "then make the PDF.",
            "success",
        )
        return redirect(url_for("programs.detail", program_id=program.id))
    return render_template("programs/start.html", client=client, form=form)
