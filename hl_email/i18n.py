"""Built-in translations: the user-visible texts of the default templates and the gateway's
in-thread sentences, in English (the default), German, French and Spanish.

`message(key, language, **params)` returns one text with its `{params}` filled in. The templates
call the same catalog through `t(key, **params)` (see hl_email.outbound.templates). An unknown language falls
back to English (a warning is logged once per language); a regional variant such as `de-AT` or
`pt-BR` uses its base language (`de`, `pt`) when the catalog has no entry for the variant.

What is never translated, in any language:
- the reply marker (`REPLY_MARKER`): the reply reader looks for exactly that text;
- the reply words APPROVE and REJECT in instructions and mailto bodies, and option numbers: the
  reply reader understands them in every language (and also understands the local words).

To add a language, add a dict with exactly the keys (and the same `{params}` in each text) of
`CATALOG["en"]`; tests/unit/test_render_i18n.py checks that every catalog is complete.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Mapping

from .errors import LanguageError as LanguageError

__all__ = [
    "CATALOG",
    "DEFAULT_LANGUAGE",
    "LanguageError",
    "catalog_language",
    "fallbacks",
    "lookup",
    "message",
    "normalize_language",
    "params_of",
]

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "en"

# A language tag as used in routes and template file names: `de`, `pt-BR`, `zh-Hant-TW`, `en_GB`.
# Letters, digits, `-` and `_` only, so a language can never reach outside a templates dir.
_LANGUAGE_RE = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,4}\Z")


CATALOG: dict[str, dict[str, str]] = {
    "en": {
        # -- the default templates ------------------------------------------------------------
        "approval_subject": "Approval needed: {fn} ({agent})",
        "question_subject_fallback": "Question",
        "eyebrow_approval": "approval request",
        "eyebrow_question": "question",
        "approval_heading": "Approve {fn}?",
        "approval_intro": "{agent} wants to call {fn} and is waiting for your decision.",
        "approval_intro_arguments": (
            "{agent} wants to call {fn} with these arguments and is waiting for your decision."
        ),
        "function_line": "Function: {fn}",
        "description_label": "What it does:",
        "arguments_label": "Arguments:",
        "no_arguments": "(no arguments)",
        "button_approve": "Approve",
        "button_reject": "Reject",
        "button_reply": "Reply",
        "button_write_reply": "Write a reply",
        "reject_with_reason": "Or reject with one of these reasons:",
        "approval_how": "Reply APPROVE, or REJECT and a reason.",
        "approval_code_how": "To approve, reply APPROVE together with this code:",
        "approval_how_html": (
            "A button opens a prefilled reply: just press Send. Or reply to this email with "
            "{approve}, or {reject} and a reason."
        ),
        "approval_how_html_options": (
            "A button opens a prefilled reply: just press Send. Or reply to this email with "
            "{approve}, or {reject} and a reason, or the number of an option."
        ),
        "reply_with_number": "Or reply with the number of an option:",
        "asks": "{agent} asks:",
        "choose_answer": "Choose an answer:",
        "question_how": "Reply to this email with your answer.",
        "question_how_html": (
            "Reply to this email with your answer. Write above the grey line at the top."
        ),
        "question_how_html_options": (
            "Reply to this email with your answer, or with the number of an option. "
            "Write above the grey line at the top."
        ),
        "your_reply": "Your reply:",
        "footer_sent": "Sent by hl-email on behalf of {agent} <{address}>.",
        "footer_sent_html": "Sent by hl-email on behalf of {agent} ({address}).",
        "footer_read": "Only the text above the first line of this email is read.",
        "footer_read_html": (
            "Your reply goes back to the agent; only the text above the grey line at the top "
            "is read."
        ),
        "request_id": "Request {call_id}",
        # -- the gateway's in-thread sentences ------------------------------------------------
        "clarify_approval": (
            "Thanks for your reply. I couldn't tell whether you approve, so nothing has been "
            "done yet. Please reply APPROVE to go ahead, or REJECT followed by a reason."
        ),
        "clarify_question": (
            "Thanks for your reply. I couldn't find an answer in it. Please reply with your "
            "answer above the quoted text."
        ),
        "clarify_reason": "Why I am asking again: {reason}",
        "confirm_approved": "Approved. Thanks, the agent will go ahead.",
        "confirm_rejected": "Rejected. Thanks, the agent will not go ahead and has been told why.",
        "confirm_answered": "Thanks, your answer has been passed on to the agent.",
        "vote_recorded": (
            "Thanks, your approval is recorded ({reason}). The request is still open: "
            "{needed} approval(s) are needed."
        ),
        "vote_recorded_answer": (
            "Thanks, your answer is recorded ({reason}). The request is still open: "
            "{needed} approval(s) are needed."
        ),
        "already_decided": (
            "Thanks, but this request was already {verdict}. Your reply did not change anything."
        ),
        "decided_note": "This request was {verdict}. No action is needed from you.",
        "reminder_approval": (
            "A reminder: this request is still waiting for your answer. "
            "Reply APPROVE, or REJECT and a reason."
        ),
        "reminder_question": (
            "A reminder: this request is still waiting for your answer. "
            "Reply with your answer above the quoted text."
        ),
        "timed_out_note": "This request timed out; no action is needed any more.",
        "cancelled_note": "The agent cancelled this request: it is no longer needed, and no action is needed from you.",
        "delegate_intro": (
            "{away} is away (automatic reply), and you are named as their delegate for this "
            "request."
        ),
        "escalated": "Nobody has answered this request yet, so it is escalated to you.",
        # {verdict} of already_decided / decided_note ("this request was already ...")
        "verdict_approved": "approved",
        "verdict_approved_by": "approved by {who}",
        "verdict_rejected": "rejected",
        "verdict_rejected_by": "rejected by {who}",
        "verdict_answered": "answered",
        "verdict_answered_by": "answered by {who}",
        "verdict_timed_out": "closed because it timed out",
        "verdict_closed": "closed without an answer",
        "verdict_cancelled": "cancelled by the agent (it is no longer needed)",
    },
    "de": {
        "approval_subject": "Freigabe erforderlich: {fn} ({agent})",
        "question_subject_fallback": "Frage",
        "eyebrow_approval": "Freigabeanfrage",
        "eyebrow_question": "Frage",
        "approval_heading": "{fn} freigeben?",
        "approval_intro": "{agent} möchte {fn} aufrufen und wartet auf Ihre Entscheidung.",
        "approval_intro_arguments": (
            "{agent} möchte {fn} mit diesen Argumenten aufrufen und wartet auf Ihre Entscheidung."
        ),
        "function_line": "Funktion: {fn}",
        "description_label": "Was die Funktion tut:",
        "arguments_label": "Argumente:",
        "no_arguments": "(keine Argumente)",
        "button_approve": "Freigeben",
        "button_reject": "Ablehnen",
        "button_reply": "Antworten",
        "button_write_reply": "Antwort schreiben",
        "reject_with_reason": "Oder lehnen Sie mit einem dieser Gründe ab:",
        "approval_how": "Antworten Sie mit APPROVE oder mit REJECT und einer Begründung.",
        "approval_code_how": "Zum Freigeben antworten Sie mit APPROVE und diesem Code:",
        "approval_how_html": (
            "Eine Schaltfläche öffnet eine vorausgefüllte Antwort: Sie müssen sie nur noch "
            "senden. Oder antworten Sie auf diese E-Mail mit {approve} oder mit {reject} und "
            "einer Begründung."
        ),
        "approval_how_html_options": (
            "Eine Schaltfläche öffnet eine vorausgefüllte Antwort: Sie müssen sie nur noch "
            "senden. Oder antworten Sie auf diese E-Mail mit {approve}, mit {reject} und einer "
            "Begründung oder mit der Nummer einer Option."
        ),
        "reply_with_number": "Oder antworten Sie mit der Nummer einer Option:",
        "asks": "{agent} fragt:",
        "choose_answer": "Wählen Sie eine Antwort:",
        "question_how": "Antworten Sie einfach auf diese E-Mail.",
        "question_how_html": (
            "Antworten Sie einfach auf diese E-Mail. Schreiben Sie oberhalb der grauen Linie "
            "ganz oben."
        ),
        "question_how_html_options": (
            "Antworten Sie einfach auf diese E-Mail, gern auch nur mit der Nummer einer Option. "
            "Schreiben Sie oberhalb der grauen Linie ganz oben."
        ),
        "your_reply": "Ihre Antwort:",
        "footer_sent": "Gesendet von hl-email im Auftrag von {agent} <{address}>.",
        "footer_sent_html": "Gesendet von hl-email im Auftrag von {agent} ({address}).",
        "footer_read": "Gelesen wird nur der Text oberhalb der ersten Zeile dieser E-Mail.",
        "footer_read_html": (
            "Ihre Antwort geht an den Agenten zurück; gelesen wird nur der Text oberhalb der "
            "grauen Linie ganz oben."
        ),
        "request_id": "Anfrage {call_id}",
        "clarify_approval": (
            "Danke für Ihre Antwort. Ich konnte nicht erkennen, ob Sie zustimmen, daher ist noch "
            "nichts geschehen. Bitte antworten Sie mit APPROVE, um fortzufahren, oder mit REJECT "
            "und einer Begründung."
        ),
        "clarify_question": (
            "Danke für Ihre Antwort. Ich konnte darin keine Antwort finden. Bitte schreiben Sie "
            "Ihre Antwort oberhalb des zitierten Textes."
        ),
        "clarify_reason": "Warum ich nachfrage: {reason}",
        "confirm_approved": "Freigegeben. Danke, der Agent fährt fort.",
        "confirm_rejected": (
            "Abgelehnt. Danke, der Agent fährt nicht fort und hat Ihre Begründung erhalten."
        ),
        "confirm_answered": "Danke, Ihre Antwort wurde an den Agenten weitergegeben.",
        "vote_recorded": (
            "Danke, Ihre Freigabe wurde erfasst ({reason}). Die Anfrage ist noch offen: "
            "Es werden {needed} Freigabe(n) benötigt."
        ),
        "vote_recorded_answer": (
            "Danke, Ihre Antwort wurde erfasst ({reason}). Die Anfrage ist noch offen: "
            "Es werden {needed} Freigabe(n) benötigt."
        ),
        "already_decided": (
            "Danke, aber diese Anfrage wurde bereits {verdict}. Ihre Antwort hat nichts geändert."
        ),
        "decided_note": "Diese Anfrage wurde {verdict}. Sie müssen nichts weiter tun.",
        "reminder_approval": (
            "Eine Erinnerung: Diese Anfrage wartet noch auf Ihre Antwort. "
            "Antworten Sie mit APPROVE oder mit REJECT und einer Begründung."
        ),
        "reminder_question": (
            "Eine Erinnerung: Diese Anfrage wartet noch auf Ihre Antwort. "
            "Bitte schreiben Sie Ihre Antwort oberhalb des zitierten Textes."
        ),
        "timed_out_note": (
            "Die Frist für diese Anfrage ist abgelaufen; Sie müssen nichts mehr tun."
        ),
        "cancelled_note": (
            "Der Agent hat diese Anfrage zurückgezogen: Sie wird nicht mehr benötigt, und Sie "
            "müssen nichts tun."
        ),
        "delegate_intro": (
            "{away} ist abwesend (automatische Antwort), und Sie sind für diese Anfrage als "
            "Vertretung eingetragen."
        ),
        "escalated": (
            "Bisher hat niemand auf diese Anfrage geantwortet, deshalb wird sie an Sie "
            "weitergeleitet."
        ),
        "verdict_approved": "freigegeben",
        "verdict_approved_by": "von {who} freigegeben",
        "verdict_rejected": "abgelehnt",
        "verdict_rejected_by": "von {who} abgelehnt",
        "verdict_answered": "beantwortet",
        "verdict_answered_by": "von {who} beantwortet",
        "verdict_timed_out": "wegen Fristablauf geschlossen",
        "verdict_closed": "ohne Antwort geschlossen",
        "verdict_cancelled": "vom Agenten zurückgezogen (sie wird nicht mehr benötigt)",
    },
    "fr": {
        "approval_subject": "Approbation requise : {fn} ({agent})",
        "question_subject_fallback": "Question",
        "eyebrow_approval": "demande d'approbation",
        "eyebrow_question": "question",
        "approval_heading": "Approuver {fn} ?",
        "approval_intro": "{agent} souhaite appeler {fn} et attend votre décision.",
        "approval_intro_arguments": (
            "{agent} souhaite appeler {fn} avec ces arguments et attend votre décision."
        ),
        "function_line": "Fonction : {fn}",
        "description_label": "Ce que fait la fonction :",
        "arguments_label": "Arguments :",
        "no_arguments": "(aucun argument)",
        "button_approve": "Approuver",
        "button_reject": "Refuser",
        "button_reply": "Répondre",
        "button_write_reply": "Écrire une réponse",
        "reject_with_reason": "Ou refusez avec l'un de ces motifs :",
        "approval_how": "Répondez APPROVE, ou REJECT suivi d'un motif.",
        "approval_code_how": "Pour approuver, répondez APPROVE avec ce code :",
        "approval_how_html": (
            "Un bouton ouvre une réponse préremplie : il suffit de l'envoyer. Vous pouvez aussi "
            "répondre à cet e-mail par {approve}, ou par {reject} suivi d'un motif."
        ),
        "approval_how_html_options": (
            "Un bouton ouvre une réponse préremplie : il suffit de l'envoyer. Vous pouvez aussi "
            "répondre à cet e-mail par {approve}, par {reject} suivi d'un motif, ou par le "
            "numéro d'une option."
        ),
        "reply_with_number": "Ou répondez avec le numéro d'une option :",
        "asks": "{agent} demande :",
        "choose_answer": "Choisissez une réponse :",
        "question_how": "Répondez simplement à cet e-mail.",
        "question_how_html": (
            "Répondez simplement à cet e-mail. Écrivez au-dessus de la ligne grise en haut."
        ),
        "question_how_html_options": (
            "Répondez simplement à cet e-mail, ou indiquez le numéro d'une option. "
            "Écrivez au-dessus de la ligne grise en haut."
        ),
        "your_reply": "Votre réponse :",
        "footer_sent": "Envoyé par hl-email pour le compte de {agent} <{address}>.",
        "footer_sent_html": "Envoyé par hl-email pour le compte de {agent} ({address}).",
        "footer_read": "Seul le texte au-dessus de la première ligne de cet e-mail est lu.",
        "footer_read_html": (
            "Votre réponse est transmise à l'agent ; seul le texte au-dessus de la ligne grise "
            "en haut est lu."
        ),
        "request_id": "Demande {call_id}",
        "clarify_approval": (
            "Merci pour votre réponse. Je n'ai pas pu déterminer si vous approuvez, donc rien n'a "
            "encore été fait. Répondez APPROVE pour continuer, ou REJECT suivi d'un motif."
        ),
        "clarify_question": (
            "Merci pour votre réponse. Je n'y ai pas trouvé de réponse. Merci d'écrire votre "
            "réponse au-dessus du texte cité."
        ),
        "clarify_reason": "Pourquoi je redemande : {reason}",
        "confirm_approved": "Approuvé. Merci, l'agent va poursuivre.",
        "confirm_rejected": (
            "Refusé. Merci, l'agent ne poursuivra pas et a été informé de votre motif."
        ),
        "confirm_answered": "Merci, votre réponse a été transmise à l'agent.",
        "vote_recorded": (
            "Merci, votre approbation est enregistrée ({reason}). La demande reste ouverte : "
            "{needed} approbation(s) nécessaire(s)."
        ),
        "vote_recorded_answer": (
            "Merci, votre réponse est enregistrée ({reason}). La demande reste ouverte : "
            "{needed} approbation(s) nécessaire(s)."
        ),
        "already_decided": (
            "Merci, mais cette demande a déjà été {verdict}. Votre réponse n'a rien changé."
        ),
        "decided_note": "Cette demande a été {verdict}. Aucune action n'est requise de votre part.",
        "reminder_approval": (
            "Rappel : cette demande attend toujours votre réponse. "
            "Répondez APPROVE, ou REJECT suivi d'un motif."
        ),
        "reminder_question": (
            "Rappel : cette demande attend toujours votre réponse. "
            "Écrivez votre réponse au-dessus du texte cité."
        ),
        "timed_out_note": (
            "Le délai de cette demande a expiré ; aucune action n'est plus nécessaire."
        ),
        "cancelled_note": (
            "L'agent a annulé cette demande : elle n'est plus nécessaire, et aucune action "
            "n'est requise de votre part."
        ),
        "delegate_intro": (
            "{away} est absent(e) (réponse automatique), et vous êtes désigné(e) comme "
            "suppléant(e) pour cette demande."
        ),
        "escalated": ("Personne n'a encore répondu à cette demande, elle vous est donc transmise."),
        "verdict_approved": "approuvée",
        "verdict_approved_by": "approuvée par {who}",
        "verdict_rejected": "refusée",
        "verdict_rejected_by": "refusée par {who}",
        "verdict_answered": "traitée",
        "verdict_answered_by": "traitée par {who}",
        "verdict_timed_out": "clôturée car le délai a expiré",
        "verdict_closed": "clôturée sans réponse",
        "verdict_cancelled": "annulée par l'agent (elle n'est plus nécessaire)",
    },
    "es": {
        "approval_subject": "Aprobación necesaria: {fn} ({agent})",
        "question_subject_fallback": "Pregunta",
        "eyebrow_approval": "solicitud de aprobación",
        "eyebrow_question": "pregunta",
        "approval_heading": "¿Aprobar {fn}?",
        "approval_intro": "{agent} quiere llamar a {fn} y espera su decisión.",
        "approval_intro_arguments": (
            "{agent} quiere llamar a {fn} con estos argumentos y espera su decisión."
        ),
        "function_line": "Función: {fn}",
        "description_label": "Qué hace la función:",
        "arguments_label": "Argumentos:",
        "no_arguments": "(sin argumentos)",
        "button_approve": "Aprobar",
        "button_reject": "Rechazar",
        "button_reply": "Responder",
        "button_write_reply": "Escribir una respuesta",
        "reject_with_reason": "O rechace con uno de estos motivos:",
        "approval_how": "Responda APPROVE, o REJECT y un motivo.",
        "approval_code_how": "Para aprobar, responda APPROVE junto con este código:",
        "approval_how_html": (
            "Un botón abre una respuesta ya preparada: solo tiene que enviarla. O responda a "
            "este correo con {approve}, o con {reject} y un motivo."
        ),
        "approval_how_html_options": (
            "Un botón abre una respuesta ya preparada: solo tiene que enviarla. O responda a "
            "este correo con {approve}, con {reject} y un motivo, o con el número de una opción."
        ),
        "reply_with_number": "O responda con el número de una opción:",
        "asks": "{agent} pregunta:",
        "choose_answer": "Elija una respuesta:",
        "question_how": "Responda a este correo con su respuesta.",
        "question_how_html": (
            "Responda a este correo con su respuesta. Escriba por encima de la línea gris "
            "de arriba."
        ),
        "question_how_html_options": (
            "Responda a este correo con su respuesta o con el número de una opción. "
            "Escriba por encima de la línea gris de arriba."
        ),
        "your_reply": "Su respuesta:",
        "footer_sent": "Enviado por hl-email en nombre de {agent} <{address}>.",
        "footer_sent_html": "Enviado por hl-email en nombre de {agent} ({address}).",
        "footer_read": "Solo se lee el texto por encima de la primera línea de este correo.",
        "footer_read_html": (
            "Su respuesta llega al agente; solo se lee el texto por encima de la línea gris "
            "de arriba."
        ),
        "request_id": "Solicitud {call_id}",
        "clarify_approval": (
            "Gracias por su respuesta. No he podido saber si lo aprueba, así que todavía no se ha "
            "hecho nada. Responda APPROVE para continuar, o REJECT seguido de un motivo."
        ),
        "clarify_question": (
            "Gracias por su respuesta. No he encontrado una respuesta en ella. Escriba su "
            "respuesta por encima del texto citado."
        ),
        "clarify_reason": "Por qué vuelvo a preguntar: {reason}",
        "confirm_approved": "Aprobado. Gracias, el agente seguirá adelante.",
        "confirm_rejected": (
            "Rechazado. Gracias, el agente no seguirá adelante y se le ha comunicado el motivo."
        ),
        "confirm_answered": "Gracias, su respuesta se ha transmitido al agente.",
        "vote_recorded": (
            "Gracias, su aprobación ha quedado registrada ({reason}). La solicitud sigue "
            "abierta: se necesitan {needed} aprobación(es)."
        ),
        "vote_recorded_answer": (
            "Gracias, su respuesta ha quedado registrada ({reason}). La solicitud sigue "
            "abierta: se necesitan {needed} aprobación(es)."
        ),
        "already_decided": (
            "Gracias, pero esta solicitud ya fue {verdict}. Su respuesta no ha cambiado nada."
        ),
        "decided_note": "Esta solicitud fue {verdict}. No tiene que hacer nada.",
        "reminder_approval": (
            "Recordatorio: esta solicitud sigue esperando su respuesta. "
            "Responda APPROVE, o REJECT y un motivo."
        ),
        "reminder_question": (
            "Recordatorio: esta solicitud sigue esperando su respuesta. "
            "Escriba su respuesta por encima del texto citado."
        ),
        "timed_out_note": (
            "El plazo de esta solicitud ha vencido; ya no es necesario que haga nada."
        ),
        "cancelled_note": (
            "El agente canceló esta solicitud: ya no es necesaria y no tiene que hacer nada."
        ),
        "delegate_intro": (
            "{away} está ausente (respuesta automática) y usted figura como suplente para esta "
            "solicitud."
        ),
        "escalated": (
            "Nadie ha respondido todavía a esta solicitud, por eso se le remite a usted."
        ),
        "verdict_approved": "aprobada",
        "verdict_approved_by": "aprobada por {who}",
        "verdict_rejected": "rechazada",
        "verdict_rejected_by": "rechazada por {who}",
        "verdict_answered": "respondida",
        "verdict_answered_by": "respondida por {who}",
        "verdict_timed_out": "cerrada porque venció el plazo",
        "verdict_closed": "cerrada sin respuesta",
        "verdict_cancelled": "cancelada por el agente (ya no es necesaria)",
    },
}

_warned: set[str] = set()


def normalize_language(language: str | None) -> str | None:
    """A language tag in canonical form (`pt_br` -> `pt-BR`, `DE` -> `de`); None stays None.

    Raises LanguageError for anything but letters, digits, `-` and `_` in tag form."""
    if language is None:
        return None
    if not isinstance(language, str) or not _LANGUAGE_RE.match(language):
        raise LanguageError(
            f"invalid language {language!r}: expected a tag like 'de' or 'pt-BR' "
            "(letters, digits, '-' and '_' only)"
        )
    first, *rest = re.split(r"[-_]", language)
    parts = [first.lower()]
    for part in rest:
        if len(part) == 2 and part.isalpha():
            parts.append(part.upper())  # region: BR, AT
        elif len(part) == 4 and part.isalpha():
            parts.append(part.title())  # script: Hant
        else:
            parts.append(part.lower())
    return "-".join(parts)


def fallbacks(language: str | None) -> tuple[str, ...]:
    """The tags to try for a language, most specific first: `pt-BR` -> (`pt-BR`, `pt`)."""
    tag = normalize_language(language)
    if tag is None:
        return ()
    parts = tag.split("-")
    return tuple("-".join(parts[:n]) for n in range(len(parts), 0, -1))


def catalog_language(
    language: str | None, catalog: Mapping[str, Mapping[str, str]] = CATALOG
) -> str:
    """The catalog entry used for `language`: itself, its base language, else English (an
    unknown or invalid language logs a warning once and never raises)."""
    if language is None:
        return DEFAULT_LANGUAGE
    try:
        candidates = fallbacks(language)
    except LanguageError:
        candidates = ()
    for candidate in candidates:
        if candidate in catalog:
            return candidate
    key = str(language)
    if key not in _warned:
        _warned.add(key)
        log.warning(
            "no built-in translations for language %r; using English (built-in: %s)",
            language,
            ", ".join(sorted(catalog)),
        )
    return DEFAULT_LANGUAGE


def lookup(key: str, language: str | None) -> str:
    """The raw text (with `{params}` unfilled) for key in language; English when the language's
    catalog lacks the key. KeyError for a key that English does not have either."""
    code = catalog_language(language)
    text = CATALOG.get(code, {}).get(key)
    if text is None:
        text = CATALOG[DEFAULT_LANGUAGE][key]
    return text


def message(key: str, language: str | None, **params: object) -> str:
    """One built-in text in `language` (None: English) with its `{params}` filled in.

    >>> message("vote_recorded", "de", reason="1 of 2", needed=1)
    'Danke, Ihre Freigabe wurde erfasst (1 of 2). Die Anfrage ist noch offen: Es werden 1 Freigabe(n) benötigt.'
    """  # noqa: E501
    return lookup(key, language).format(**params)


def params_of(text: str) -> frozenset[str]:
    """The `{param}` names a catalog text uses."""
    return frozenset(
        field for _, field, _, _ in string.Formatter().parse(text) if field is not None
    )
