"""Exercise library pages: browse, detail, and the clinic's own exercises."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from trainer_app.accounts import roles
from trainer_app.audit.service import not_audited
from trainer_app.extensions import db
from trainer_app.images import ImageRejected
from trainer_app.library import media, service
from trainer_app.library.catalog import EQUIPMENT, REGIONS
from trainer_app.library.forms import (
    KIND_LABELS,
    ClinicExerciseForm,
    ExercisePhotoForm,
    FilterForm,
    VideoLinkForm,
)
from trainer_app.library.models import ClinicExercise
from trainer_app.tenancy import current_clinic_id, get_or_404

bp = Blueprint("library", __name__, url_prefix="/library")

FILTERS = ("q", "imbalance", "muscle", "equipment", "kind", "source")


# Everyone in the clinic reads the library; trainers and the owner change it.
roles.guard(bp, *roles.CLINICAL, reads_for_all=True)


@bp.context_processor
def _vocabulary() -> dict:
    return {
        "REGIONS": REGIONS,
        "EQUIPMENT": EQUIPMENT,
        "KIND_LABELS": KIND_LABELS,
        "short_name": service.short_name,
        "names": _names,
    }


def _names(keys, vocabulary: dict[str, str]) -> str:
    """Labels for vocabulary keys, comma-separated ("glutes" -> "Glutes")."""
    return ", ".join(vocabulary.get(key, key) for key in keys)


@bp.get("/")
def index():
    catalog = service.clinic_catalog(current_clinic_id())
    filters = FilterForm(request.args)
    filters.set_choices(catalog)
    filters.validate()
    q = "" if filters.q.errors else (filters.q.data or "").strip()
    chosen = {name: filters.value(name) for name in FILTERS if name != "q"}
    exercises = service.filter_exercises(catalog, q=q, **chosen)
    view = "table" if filters.view.data == "table" else "cards"
    active = {name: value for name, value in dict(chosen, q=q).items() if value}
    return render_template(
        "library/index.html",
        catalog=catalog,
        filters=filters,
        active=active,
        view=view,
        total=len(catalog.exercises),
        exercises=exercises,
        groups=service.group_by_imbalance(catalog, exercises, imbalance=chosen["imbalance"]),
        article=service.article_slugs(catalog),
        counts=service.imbalance_counts(catalog),
    )


@bp.app_template_global("exercise_pictures")
def _exercise_pictures(slugs) -> dict[str, media.ExercisePictures]:
    """Drawings, or the signed-in clinic's own photo, for the exercises a page shows."""
    clinic_id = current_user.clinic_id if current_user.is_authenticated else None
    if clinic_id is None:
        return {slug: media.ExercisePictures(slug, ()) for slug in slugs}
    return media.pictures(clinic_id, slugs)


def _exercise_or_404(slug: str):
    """An exercise of the signed-in clinic's library (another clinic's own exercise: 404)."""
    exercise = service.clinic_catalog(current_clinic_id()).exercises.get(slug)
    if exercise is None:
        abort(404)
    return exercise


@bp.get("/<slug>")
@not_audited("the clinic's exercise library: no client data")
def detail(slug: str):
    return _detail(slug)


def _detail(
    slug: str,
    photo_form: ExercisePhotoForm | None = None,
    video_form: VideoLinkForm | None = None,
):
    clinic_id = current_clinic_id()
    catalog = service.clinic_catalog(clinic_id)
    exercise = catalog.exercises.get(slug)
    if exercise is None:
        abort(404)
    row = service.clinic_exercise_by_slug(clinic_id, slug) if exercise.source == "clinic" else None
    pictures = media.exercise_pictures(clinic_id, slug)
    if video_form is None:
        video_form = VideoLinkForm(formdata=None, video_url=pictures.video_url or "")
    return render_template(
        "library/detail.html",
        pictures=pictures,
        photo_form=photo_form or ExercisePhotoForm(formdata=None),
        video_form=video_form,
        catalog=catalog,
        exercise=exercise,
        row=row,
        from_article=slug in service.article_slugs(catalog),
        marks=service.body_map_marks(exercise),
        easier=catalog.exercises.get(exercise.easier or ""),
        harder=catalog.exercises.get(exercise.harder or ""),
        treats=[catalog.imbalances[s] for s in exercise.imbalances if s in catalog.imbalances],
        related=[
            ex
            for ex in catalog.exercises.values()
            if slug in (ex.easier, ex.harder) and ex.slug not in (exercise.easier, exercise.harder)
        ],
    )


@bp.get("/<slug>/photo")
@not_audited("the clinic's exercise library: no client data")
def photo(slug: str):
    """The clinic's own photo of an exercise (its URL changes when the photo does)."""
    found = media.photo_of(current_clinic_id(), slug)
    if found is None:
        abort(404)
    data, mime = found
    response = Response(data, mimetype=mime)
    response.headers["Cache-Control"] = "private, max-age=604800"
    return response


@bp.post("/<slug>/photo")
@not_audited("the clinic's exercise library: no client data")
def upload_photo(slug: str):
    exercise = _exercise_or_404(slug)
    form = ExercisePhotoForm()
    if form.validate_on_submit():
        with form.photo.data.stream as stream:
            upload = stream.read()
        try:
            media.set_photo(current_clinic_id(), slug, upload)
        except ImageRejected as exc:
            db.session.rollback()
            form.photo.errors = [str(exc)]
        else:
            db.session.commit()
            flash(f"Your photo now shows for {exercise.name} instead of the drawing.", "success")
            return redirect(url_for("library.detail", slug=slug))
    return _detail(slug, photo_form=form)


@bp.post("/<slug>/photo/remove")
@not_audited("the clinic's exercise library: no client data")
def remove_photo(slug: str):
    exercise = _exercise_or_404(slug)
    if media.remove_photo(current_clinic_id(), slug):
        db.session.commit()
        flash(f"Photo removed; {exercise.name} shows the drawing again.", "info")
    return redirect(url_for("library.detail", slug=slug))


@bp.post("/<slug>/video")
@not_audited("the clinic's exercise library: no client data")
def save_video(slug: str):
    _exercise_or_404(slug)
    form = VideoLinkForm()
    if form.validate_on_submit():
        try:
            url = media.set_video(current_clinic_id(), slug, form.video_url.data)
        except media.VideoLinkError as exc:
            db.session.rollback()
            form.video_url.errors = [str(exc)]
        else:
            db.session.commit()
            flash(
                "Video link saved; plans print it as a QR code." if url else "Video link removed.",
                "success" if url else "info",
            )
            return redirect(url_for("library.detail", slug=slug))
    return _detail(slug, video_form=form)


def _editor(form: ClinicExerciseForm, row: ClinicExercise | None, general: list[str]):
    return render_template("library/form.html", form=form, row=row, general=general)


@bp.route("/custom/new", methods=["GET", "POST"])
def create():
    clinic_id = current_clinic_id()
    form = ClinicExerciseForm()
    form.set_choices(service.clinic_catalog(clinic_id))
    general: list[str] = []
    if form.validate_on_submit():
        try:
            row = service.create_clinic_exercise(clinic_id, form.exercise_data())
        except service.ExerciseInvalid as exc:
            general = form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"{row.data['name']} added to your library.", "success")
            return redirect(url_for("library.detail", slug=row.slug))
    return _editor(form, None, general)


@bp.route("/custom/<int:exercise_id>/edit", methods=["GET", "POST"])
@not_audited("the clinic's exercise library: no client data")
def edit(exercise_id: int):
    row = get_or_404(ClinicExercise, exercise_id)
    catalog = service.clinic_catalog(row.clinic_id)
    form = ClinicExerciseForm()
    form.set_choices(catalog, exclude=row.slug)
    general: list[str] = []
    if request.method == "GET":
        form.fill(service.form_values(catalog.exercise(row.slug)))
    elif form.validate_on_submit():
        try:
            service.update_clinic_exercise(row, form.exercise_data())
        except service.ExerciseInvalid as exc:
            general = form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash("Changes saved.", "success")
            return redirect(url_for("library.detail", slug=row.slug))
    return _editor(form, row, general)


@bp.post("/custom/<int:exercise_id>/delete")
@not_audited("the clinic's exercise library: no client data")
def delete(exercise_id: int):
    row = get_or_404(ClinicExercise, exercise_id)
    name = row.data.get("name", "The exercise")
    service.delete_clinic_exercise(row)
    db.session.commit()
    flash(f"{name} deleted. Programs that already use it keep their copy.", "info")
    return redirect(url_for("library.index", source="clinic"))
