"""Account forms: sign-up, sign-in, passwords."""

from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from trainer_app.accounts.passwords import MAX_LENGTH, MIN_LENGTH, RULE, password_problem
from trainer_app.clinics.forms import time_zone_field
from trainer_app.formutil import EmailAddress, SafeForm


def _not_guessable(form, field) -> None:
    """Refuse common passwords and the account's own name, email or clinic name."""
    personal = list(getattr(form, "personal_words", ()))
    personal += [form[name].data for name in ("name", "email", "clinic_name") if name in form]
    problem = password_problem(field.data or "", personal)
    if problem:
        raise ValidationError(problem)


PASSWORD_RULES = [
    DataRequired(message="Enter a password."),
    Length(
        min=MIN_LENGTH,
        max=MAX_LENGTH,
        message=f"Use between {MIN_LENGTH} and {MAX_LENGTH} characters.",
    ),
    _not_guessable,
]


class SignUpForm(SafeForm):
    name = StringField("Your name", validators=[DataRequired("Enter your name."), Length(max=120)])
    clinic_name = StringField(
        "Clinic or business name",
        validators=[DataRequired("Enter the name clients will see."), Length(max=120)],
    )
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."), EmailAddress(), Length(max=254)],
    )
    time_zone = time_zone_field("Dates and times are shown in this zone; change it any time.")
    password = PasswordField("Password", validators=PASSWORD_RULES, description=RULE)
    confirm = PasswordField(
        "Repeat password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "Passwords differ.")],
    )
    submit = SubmitField("Create account")


class SignInForm(SafeForm):
    # No address rule here: the credentials decide, and an older account keeps signing in.
    email = EmailField(
        "Email", validators=[DataRequired("Enter your email address."), Length(max=254)]
    )
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    remember = BooleanField("Remember me on this device")
    submit = SubmitField("Sign in")


class ChangePasswordForm(SafeForm):
    # The account's name, email and clinic name, set by the view: none may be the password.
    personal_words: tuple[str, ...] = ()

    current = PasswordField("Current password", validators=[DataRequired("Enter your password.")])
    password = PasswordField("New password", validators=PASSWORD_RULES, description=RULE)
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "Passwords differ.")],
    )
    submit = SubmitField("Change password")


class ResetRequestForm(SafeForm):
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."), EmailAddress(), Length(max=254)],
    )
    submit = SubmitField("Send reset link")


class ResetPasswordForm(SafeForm):
    personal_words: tuple[str, ...] = ()

    password = PasswordField("New password", validators=PASSWORD_RULES, description=RULE)
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "Passwords differ.")],
    )
    submit = SubmitField("Set new password")


class ConfirmForm(SafeForm):
    password = PasswordField(
        "Password you chose when signing up",
        validators=[DataRequired("Enter the password you chose when signing up.")],
    )
    submit = SubmitField("Confirm and sign in")
