"""What each message says. Variables are filled in at delivery time, never stored in clear.

The texts here are the English ones and the message ids of the catalogues (``service/locale``),
each in the context of its template's name; a message is rendered in its recipient's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from babel.dates import format_date, format_time

from service.i18n.catalogues import translations
from service.i18n.languages import Language

# Variables holding an English text of ours (a reason, a next step), translated with the message.
PROSE_VARIABLES = frozenset({"reason", "next_step", "news", "contact"})
# Variables holding a time or a date in ISO 8601, written in the reader's language and format.
TIME_VARIABLES = frozenset({"at", "erase_on"})


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True)
class Template:
    channel: Channel
    subject: str
    body: str


TEMPLATES: dict[str, Template] = {
    "sign_in_locked": Template(
        Channel.EMAIL,
        "Sign-in to your account is paused",
        "Someone entered a wrong password for your {service} account many times, so signing in with a "
        "password is paused for a while; until then even the right password is answered as wrong.\n\n"
        "If it was you, wait an hour and try again. If it was not you, nobody got in: no wrong password "
        "was accepted. Consider a longer password and a second factor.",
    ),
    "sign_in_locked_sms": Template(
        Channel.SMS,
        "",
        "Many wrong passwords were entered for your account; password sign-in is paused for a while.",
    ),
    "passkey_added": Template(
        Channel.EMAIL,
        "A passkey was added to your account",
        'A passkey named "{name}" was added to your {service} account at {at}; it can now sign in '
        "without your password.\n\n"
        "If it was not you, remove it now (your account's passkeys page lists them), change your "
        "password and end the sessions you do not know.",
    ),
    "passkey_added_sms": Template(
        Channel.SMS,
        "",
        "A passkey was added to your account at {at}. Not you? Remove it and change your password.",
    ),
    "passkey_removed": Template(
        Channel.EMAIL,
        "A passkey was removed from your account",
        'The passkey named "{name}" was removed from your {service} account at {at}; it no longer signs '
        "in.\n\nIf it was not you, change your password now.",
    ),
    "passkey_removed_sms": Template(
        Channel.SMS,
        "",
        "A passkey was removed from your account at {at}. Not you? Change your password now.",
    ),
    "passkey_counter_regressed": Template(
        Channel.EMAIL,
        "A sign-in with one of your passkeys was refused",
        'A sign-in to your {service} account with the passkey named "{name}" was refused at {at}: '
        "its signature counter went backwards, which a copied (cloned) security key can cause.\n\n"
        "If you did not just sign in with it, remove that passkey and change your password.",
    ),
    "passkey_counter_regressed_sms": Template(
        Channel.SMS,
        "",
        "A passkey sign-in was refused at {at}: the key may have been copied. Check your passkeys.",
    ),
    "new_device_sign_in": Template(
        Channel.EMAIL,
        "A sign-in to your account from a new device",
        "Your {service} account was signed in to at {at} from {device} on network {network}, a device "
        "your recent sessions have not used.\n\n"
        "If it was you, there is nothing to do. If it was not you, change your password now, end the "
        "sessions you do not know (your account's sessions page lists them), and add a second factor.",
    ),
    "new_device_sign_in_sms": Template(
        Channel.SMS,
        "",
        "New sign-in at {at} from {device} ({network}). Not you? Change your password now.",
    ),
    "account_suspended": Template(
        Channel.EMAIL,
        "Your account is suspended",
        "Your {service} account is suspended. {reason}\n\n"
        "All your sessions were ended. {next_step} You can still sign in to see why, "
        "and see, export or delete your data.",
    ),
    "account_suspended_sms": Template(
        Channel.SMS,
        "",
        "Your account is suspended. {reason} Sign in to see why and what you can do.",
    ),
    "account_reinstated": Template(
        Channel.EMAIL,
        "Your account is reinstated",
        "Your {service} account is no longer suspended. {reason}",
    ),
    "account_reinstated_sms": Template(Channel.SMS, "", "Your account is no longer suspended."),
    "account_reinstated_restricted": Template(
        Channel.EMAIL,
        "Your account is no longer suspended",
        "Your {service} account is no longer suspended. {reason}\n\n"
        "It stays restricted, as it was before the suspension, until our earlier check ends: you can "
        "verify your identity, appeal, and see, correct, export or delete your data. Sign in to see why.",
    ),
    "account_reinstated_restricted_sms": Template(
        Channel.SMS, "", "Your account is no longer suspended but stays restricted. Sign in to see why."
    ),
    "account_restricted": Template(
        Channel.EMAIL,
        "Your account is restricted",
        "Your {service} account is restricted while we check something. {reason}\n\n"
        "Until then you can sign in to verify your identity, appeal our decisions, and see, correct, export "
        "or delete your data; other features are paused.",
    ),
    "account_restricted_sms": Template(
        Channel.SMS, "", "Your account is restricted. {reason} Sign in to see what to do."
    ),
    "account_restriction_lifted": Template(
        Channel.EMAIL, "Your account works again", "The restriction on your {service} account is lifted. {reason}"
    ),
    "account_restriction_lifted_sms": Template(Channel.SMS, "", "The restriction on your account is lifted."),
    "account_terminated": Template(
        Channel.EMAIL,
        "Your account is closed",
        "Your {service} account is closed and can no longer be used. {reason}\n\n"
        "Two reviewers took this decision. If you think it is wrong, or want a copy of your data, reply to "
        "this message or contact {service}'s privacy officer.",
    ),
    "account_terminated_sms": Template(Channel.SMS, "", "Your account is closed. {reason}"),
    "cancellation_requested": Template(
        Channel.EMAIL,
        "Your account will be deleted",
        "You asked to delete your {service} account. It will be deleted on {erase_on}, with your personal "
        "data. Until then you can sign in and keep it. If you did not ask for this, sign in now, keep the "
        "account and change your password.",
    ),
    "cancellation_requested_sms": Template(
        Channel.SMS, "", "Your account will be deleted on {erase_on}. Sign in before then to keep it."
    ),
    "cancellation_withdrawn": Template(
        Channel.EMAIL, "Your account is kept", "Your {service} account will not be deleted after all."
    ),
    "cancellation_withdrawn_sms": Template(Channel.SMS, "", "Your account will not be deleted."),
    "operator_enrolment": Template(
        Channel.EMAIL,
        "Your operator account",
        "You have been made a {service} operator. Enrol within {hours} hours with this code:\n\n"
        "{code}\n\n"
        "Enrolment sets your password and an authenticator app. If you did not expect this, tell your "
        "security team; do not forward the code.",
    ),
    "verify_email": Template(
        Channel.EMAIL,
        "Your verification code",
        "Your verification code is {code}. It expires in {minutes} minutes.\n\n"
        "If you did not ask for this code, ignore this message. Never share it with anyone.",
    ),
    "guardian_invitation": Template(
        Channel.EMAIL,
        "A minor asks you to be their guardian",
        "Someone registering with {service} named you as their parent or guardian. If that is right, sign in "
        "to {service} (or register), verify your real name, and consent with this code within {days} days:\n\n"
        "{code}\n\n"
        "If you do not know them, ignore this message: without your consent their data is deleted.",
    ),
    "guardian_invitation_sms": Template(
        Channel.SMS,
        "",
        "A minor named you as their guardian. To consent, sign in and use code {code} within {days} days.",
    ),
    "guardianship_ended": Template(
        Channel.EMAIL,
        "Guardianship ended at 18",
        "{news} The guardianship recorded with {service} has ended: the guardian no longer consents to or "
        "sees anything for them. If you are the one who came of age: your account is yours alone now; please "
        "review the terms of service and privacy policy as an adult, and your consents.",
    ),
    "guardianship_ended_sms": Template(
        Channel.SMS,
        "",
        "{news} The guardianship has ended.",
    ),
    "verify_work_email": Template(
        Channel.EMAIL,
        "Confirm your work e-mail",
        "Your code to confirm this work address for a qualification is {code}. It expires in {minutes} minutes.\n\n"
        "If you did not ask for this code, ignore this message. Never share it with anyone.",
    ),
    "assisted_recovery_requested": Template(
        Channel.EMAIL,
        "Someone asked to recover your account",
        "Someone who gave your legal name and ID number asked us to recover your {service} account without "
        "its password and second factor. Two of our staff will check the request before anything changes.\n\n"
        "If this was not you, sign in and withdraw the request under your cases, change your password and "
        "check your second factor.",
    ),
    "assisted_recovery_requested_sms": Template(
        Channel.SMS,
        "",
        "Someone asked to recover your account with your ID. Not you? Sign in and withdraw it.",
    ),
    "assisted_recovery_face": Template(
        Channel.EMAIL,
        "Confirm your account recovery with your face",
        "You had your face verified with {service} and agreed to facial recognition, so you can also show "
        "our staff that it is you with your face: it is compared with that verification, and the result is "
        "added to your request. It does not decide it alone.\n\n"
        "Request: {case}\nKey: {key}\n\n"
        "The key works once, for this request only, within {minutes} minutes. To get a new one, ask for the "
        "recovery again with the same details.\n\n"
        "If you did not ask for this, do not use the key: sign in and withdraw the request under your cases.",
    ),
    "assisted_recovery_face_sms": Template(
        Channel.SMS,
        "",
        "To confirm your recovery with your face: request {case}, key {key} ({minutes} min, once). Not you? Ignore it.",
    ),
    "assisted_recovery_without_face": Template(
        Channel.EMAIL,
        "How your account recovery will be checked",
        "Your face cannot be compared for this request: that needs your consent to facial recognition and an "
        "earlier face verification with {service}. Our staff will check the request against your verified "
        "real name and identity document, and write to you when it is decided.",
    ),
    "assisted_recovery_without_face_sms": Template(
        Channel.SMS,
        "",
        "Your recovery request will be checked against your verified real name and ID document.",
    ),
    "assisted_recovery_approved": Template(
        Channel.EMAIL,
        "Your account recovery was approved",
        "We confirmed it is you. Your account's second factor was removed and every session ended.\n\n"
        "Your recovery code is {code}. It is valid for {hours} hours: enter it with a new password to sign in, "
        "then add a second factor again.\n\n"
        "If you did not ask for this, contact support at once. Never share this code with anyone.",
    ),
    "assisted_recovery_approved_sms": Template(
        Channel.SMS, "", "Recovery approved. Your code is {code} ({hours} h). Never share it."
    ),
    "assisted_recovery_rejected": Template(
        Channel.EMAIL,
        "Your account recovery was not approved",
        "We could not confirm it is you, so nothing about your {service} account was changed.",
    ),
    "assisted_recovery_rejected_sms": Template(
        Channel.SMS, "", "Your account recovery was not approved; nothing was changed."
    ),
    "contact_added": Template(
        Channel.EMAIL,
        "A contact was added to your account",
        "The {contact} {address} was added to your {service} account: it can now be used to sign in "
        "and receive codes.\n\n"
        "If this was not you, sign in, remove it, change your password and add a second factor.",
    ),
    "contact_added_sms": Template(
        Channel.SMS, "", "The {contact} {address} was added to your account. Not you? Remove it now."
    ),
    "contact_changed": Template(
        Channel.EMAIL,
        "A contact of your account was changed",
        "The {contact} of your {service} account was changed to {address}: the old one no longer signs in "
        "or receives codes.\n\n"
        "If this was not you, sign in, change it back, change your password and add a second factor.",
    ),
    "contact_changed_sms": Template(
        Channel.SMS, "", "The {contact} of your account was changed to {address}. Not you? Act now."
    ),
    "contact_removed": Template(
        Channel.EMAIL,
        "A contact was removed from your account",
        "The {contact} {address} was removed from your {service} account: it no longer signs in or "
        "receives codes.\n\n"
        "If this was not you, sign in, change your password and add a second factor.",
    ),
    "contact_removed_sms": Template(
        Channel.SMS, "", "The {contact} {address} was removed from your account. Not you? Act now."
    ),
    "contact_notices_moved": Template(
        Channel.EMAIL,
        "Your account's notices go elsewhere now",
        "From now on, notices about your {service} account go to the {contact} {address}, not here.\n\n"
        "If this was not you, sign in, choose this address again, change your password and add a second factor.",
    ),
    "contact_notices_moved_sms": Template(
        Channel.SMS, "", "Your account's notices now go to the {contact} {address}. Not you? Act now."
    ),
    "verify_phone": Template(
        Channel.SMS,
        "",
        "Your verification code is {code}, valid for {minutes} minutes. Never share it with anyone.",
    ),
    "password_changed": Template(
        Channel.EMAIL,
        "Your password was changed",
        "The password of your {service} account was changed, and every other session was signed out.\n\n"
        "If it was you, there is nothing to do. If it was not, recover your account at once with the "
        '"forgot password" link, and consider a second factor.',
    ),
    "password_changed_sms": Template(
        Channel.SMS,
        "",
        "Your password was changed and other sessions signed out. Not you? Recover your account now.",
    ),
    "recovery_code": Template(
        Channel.EMAIL,
        "Your account recovery code",
        "Someone asked to reset the password of your {service} account. The code is {code}; it expires in "
        "{minutes} minutes.\n\n"
        "If it was not you, ignore this message: nothing changes without the code. Never share it with anyone.",
    ),
    "recovery_code_sms": Template(
        Channel.SMS,
        "",
        "Password reset code {code}, valid {minutes} min. Not you? Ignore this. Never share it.",
    ),
    "account_recovered": Template(
        Channel.EMAIL,
        "Your password was reset",
        "The password of your {service} account was reset with a recovery code sent to you, and every other "
        "session was signed out.\n\n"
        "If it was not you, someone can read your messages: secure your e-mail or phone, then recover "
        "your account again and add a second factor.",
    ),
    "account_recovered_sms": Template(
        Channel.SMS,
        "",
        "Your password was reset with a recovery code and other sessions signed out. Not you? Act now.",
    ),
}


def render(name: str, variables: dict[str, str], language: Language, *, signature: str) -> tuple[str, str]:
    """The subject and body of template ``name`` in ``language``. An SMS starts with the sender's
    signature in 【】, as Chinese carriers require of every message (and show to the reader)."""
    template = TEMPLATES[name]
    catalogue = translations(language)
    filled = {k: _localized(k, v, language) if v else v for k, v in variables.items()}
    filled = {k: catalogue.text(v) if k in PROSE_VARIABLES and v else v for k, v in filled.items()}
    subject = catalogue.in_context(name, template.subject).format(**filled) if template.subject else ""
    body = catalogue.in_context(name, template.body).format(**filled)
    if template.channel is Channel.SMS:
        body = f"【{signature}】{body}"
    return subject, body


def _localized(name: str, value: str, language: Language) -> str:
    """A time or date variable as its reader writes it (CLDR's long date, 24-hour time):
    ``2026年12月3日 09:05`` and Beijing time named in Chinese brackets, ``December 3, 2026 09:05
    (UTC+08:00)``. Anything else,
    or a value that is not ISO 8601 (queued before times were), is left as it is."""
    if name not in TIME_VARIABLES:
        return value
    locale = language.locale
    try:
        if len(value) == len("2026-12-03"):
            return format_date(date.fromisoformat(value), "long", locale=locale)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = moment.utcoffset()
    if offset is None:
        return value
    day, time = format_date(moment.date(), "long", locale=locale), format_time(moment, "HH:mm", locale=locale)
    hours, rest = divmod(int(offset.total_seconds()) // 60, 60)
    zone = f"UTC{'+' if offset >= timedelta(0) else '-'}{abs(hours):02d}:{rest:02d}"
    if language is Language.ZH_CN:
        return f"{day} {time}（{'北京时间' if offset == timedelta(hours=8) else zone}）"
    return f"{day} {time} ({zone})"
