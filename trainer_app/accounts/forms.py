"""Account forms: sign-up, sign-in, passwords."""

from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from trainer_app.clinics.forms import time_zone_field
from trainer_app.formutil import EmailAddress, SafeForm

PASSWORD_RULES = [
    DataRequired(message="Enter a password."),
    Length(min=10, max=128, message="Use between 10 and 128 characters."),
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
    password = PasswordField("Password", validators=PASSWORD_RULES)
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
    current = PasswordField("Current password", validators=[DataRequired("Enter your password.")])
    password = PasswordField("New password", validators=PASSWORD_RULES)
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
    password = PasswordField("New password", validators=PASSWORD_RULES)
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired("Repeat the password."), EqualTo("password", "Passwords differ.")],
    )
    submit = SubmitField("Set new password")


class ConfirmForm(SafeForm):
    submit = SubmitField("Confirm and sign in")
