"""Writes the development corpus of raw replies in this folder: ``NNN-<client>-<lang>.eml``
and ``index.json`` (expected new text, where the shape comes from, client, language,
charset and transfer encoding of each message).

Every message is written for hl-email (not copied from another project's fixtures). The
reply shapes follow what each client produces when a person answers (attribution lines,
quote containers, header blocks, signatures), in the client's localised wording; the
``source`` note of each message says which convention it follows. Run it again after a
change (``python tests/data/replies/generate.py``) and commit the output: the output is
deterministic.
"""

from __future__ import annotations

import base64
import html
import json
import quopri
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

AGENT = "Refund agent <agent@example.test>"
AGENT_NAME = "Refund agent"
AGENT_ADDR = "agent@example.test"

# What the agent asked (quoted in every reply); in English, as the ask was.
QUOTE = [
    "Refund agent asks for your approval:",
    "",
    "Refund $40.00 to customer C-1932 for order 4711 (damaged in transit).",
    "",
    "Reply APPROVE to approve or REJECT with a reason.",
]

# --- what people write, per language ------------------------------------------------------

NEW_TEXT = {
    "en": [
        "Approved, go ahead.",
        "Yes, but only for order 4711. The second one needs a photo first.",
        "Rejected. The customer already got a voucher last week.",
        "Sure.\n\nPlease also send them the usual apology note.",
    ],
    "de": [
        "Genehmigt, bitte durchführen.",
        "Ja, aber nur für Bestellung 4711. Für die zweite brauche ich zuerst ein Foto.",
        "Abgelehnt. Der Kunde hat letzte Woche schon einen Gutschein bekommen.",
        "Passt so.\n\nBitte schickt ihm auch die übliche Entschuldigung.",
    ],
    "fr": [
        "Approuvé, vous pouvez y aller.",
        "Oui, mais seulement pour la commande 4711. Pour la deuxième il me faut une photo.",
        "Refusé. Le client a déjà reçu un bon d'achat la semaine dernière.",
        "D'accord.\n\nEnvoyez-lui aussi le mot d'excuse habituel, s'il vous plaît.",
    ],
    "es": [
        "Aprobado, adelante.",
        "Sí, pero solo para el pedido 4711. Para el segundo necesito una foto.",
        "Rechazado. El cliente ya recibió un vale la semana pasada.",
        "De acuerdo.\n\nEnviadle también la nota de disculpa de siempre, por favor.",
    ],
    "pt": [
        "Aprovado, pode seguir.",
        "Sim, mas só para a encomenda 4711. Para a segunda preciso de uma foto.",
        "Rejeitado. O cliente já recebeu um vale na semana passada.",
        "Combinado.\n\nEnviem também a nota de desculpas habitual, por favor.",
    ],
    "it": [
        "Approvato, procedete pure.",
        "Sì, ma solo per l'ordine 4711. Per il secondo mi serve prima una foto.",
        "Rifiutato. Il cliente ha già ricevuto un buono la settimana scorsa.",
        "Va bene.\n\nMandategli anche la solita nota di scuse, per favore.",
    ],
    "nl": [
        "Goedgekeurd, ga je gang.",
        "Ja, maar alleen voor bestelling 4711. Voor de tweede wil ik eerst een foto.",
        "Afgewezen. De klant heeft vorige week al een tegoedbon gekregen.",
        "Prima.\n\nStuur ook even de gebruikelijke excuusmail, graag.",
    ],
    "pl": [
        "Zatwierdzam, proszę działać.",
        "Tak, ale tylko dla zamówienia 4711. Do drugiego potrzebuję najpierw zdjęcia.",
        "Odrzucam. Klient dostał już bon w zeszłym tygodniu.",
        "W porządku.\n\nProszę też wysłać zwykłe przeprosiny, dziękuję.",
    ],
    "sv": [
        "Godkänt, kör på.",
        "Ja, men bara för order 4711. För den andra vill jag först se ett foto.",
        "Avslaget. Kunden fick redan en värdecheck förra veckan.",
        "Okej.\n\nSkicka också den vanliga ursäkten, tack.",
    ],
    "da": [
        "Godkendt, bare gå i gang.",
        "Ja, men kun for ordre 4711. Til den anden vil jeg først se et billede.",
        "Afvist. Kunden fik allerede et gavekort i sidste uge.",
        "Fint.\n\nSend også den sædvanlige undskyldning, tak.",
    ],
    "no": [
        "Godkjent, bare sett i gang.",
        "Ja, men bare for ordre 4711. For den andre vil jeg først se et bilde.",
        "Avvist. Kunden fikk allerede et gavekort forrige uke.",
        "Greit.\n\nSend også den vanlige unnskyldningen, takk.",
    ],
    "ru": [
        "Согласовано, выполняйте.",
        "Да, но только для заказа 4711. Для второго сначала нужна фотография.",
        "Отклонено. Клиент уже получил купон на прошлой неделе.",
        "Хорошо.\n\nОтправьте ему также обычное письмо с извинениями.",
    ],
    "uk": [
        "Погоджено, виконуйте.",
        "Так, але тільки для замовлення 4711. Для другого спершу потрібне фото.",
        "Відхилено. Клієнт уже отримав купон минулого тижня.",
        "Добре.\n\nНадішліть йому також звичайний лист із вибаченнями.",
    ],
    "zh": [
        "同意，请处理。",
        "可以，但只限订单4711。第二个订单请先发照片给我。",
        "拒绝。客户上周已经拿到代金券了。",
        "好的。\n\n也请给客户发一封常规的道歉信。",
    ],
    "zh-tw": [
        "同意，請處理。",
        "可以，但只限訂單4711。第二張訂單請先寄照片給我。",
        "拒絕。客戶上週已經拿到折價券了。",
        "好的。\n\n也請給客戶寄一封一般的道歉信。",
    ],
    "ja": [
        "承認します。進めてください。",
        "はい、ただし注文4711だけです。二件目はまず写真を送ってください。",
        "却下します。このお客様は先週すでにクーポンを受け取っています。",
        "了解です。\n\nいつものお詫びのメールも送ってください。",
    ],
}

SIGN_OFF = {
    "en": "Thanks,\nLena",
    "de": "Viele Grüße\nLena",
    "fr": "Cordialement,\nJean",
    "es": "Saludos,\nMarta",
    "pt": "Abraços,\nJoão",
    "it": "Grazie,\nGiulia",
    "nl": "Groeten,\nSanne",
    "pl": "Pozdrawiam,\nKasia",
    "sv": "Hälsningar,\nErik",
    "da": "Hilsen\nMads",
    "no": "Hilsen\nIngrid",
    "ru": "С уважением,\nИван",
    "uk": "З повагою,\nОлена",
    "zh": "谢谢\n王伟",
    "zh-tw": "謝謝\n陳怡君",
    "ja": "よろしくお願いします。\n田中",
}

# Charsets a mail client of that language sends (besides UTF-8), one picked per message.
LEGACY_CHARSETS = {
    "en": ["us-ascii", "iso-8859-1", "windows-1252"],
    "de": ["iso-8859-1", "iso-8859-15", "windows-1252"],
    "fr": ["iso-8859-1", "iso-8859-15", "windows-1252"],
    "es": ["iso-8859-1", "windows-1252"],
    "pt": ["iso-8859-1", "windows-1252"],
    "it": ["iso-8859-1", "iso-8859-15"],
    "nl": ["iso-8859-1", "windows-1252"],
    "pl": ["iso-8859-2", "windows-1250"],
    "sv": ["iso-8859-1", "iso-8859-15"],
    "da": ["iso-8859-1", "windows-1252"],
    "no": ["iso-8859-1", "iso-8859-15"],
    "ru": ["koi8-r", "windows-1251"],
    "uk": ["koi8-u", "windows-1251"],
    "zh": ["gb2312", "gbk", "gb18030"],
    "zh-tw": ["big5"],
    "ja": ["iso-2022-jp", "shift_jis", "euc-jp"],
}

# --- attribution lines and header blocks, per client and language --------------------------

# Gmail (web, Android, iOS): the attribution line in the sender's UI language.
GMAIL_ATTR = {
    "en": "On Mon, Jan 8, 2024 at 10:14\u202fAM {name} <{addr}> wrote:",
    "de": "Am Mo., 8. Jan. 2024 um 10:14\u00a0Uhr schrieb {name} <{addr}>:",
    "fr": "Le lun. 8 janv. 2024 à 10:14, {name} <{addr}> a écrit :",
    "es": "El lun, 8 ene 2024 a las 10:14, {name} (<{addr}>) escribió:",
    "pt": "Em seg., 8 de jan. de 2024 às 10:14, {name} <{addr}> escreveu:",
    "it": "Il giorno lun 8 gen 2024 alle ore 10:14 {name} <{addr}> ha scritto:",
    "nl": "Op ma 8 jan 2024 om 10:14 schreef {name} <{addr}>:",
    "pl": "pon., 8 sty 2024 o 10:14 {name} <{addr}> napisał(a):",
    "sv": "Den mån 8 jan. 2024 kl 10:14 skrev {name} <{addr}>:",
    "da": "Den man. 8. jan. 2024 kl. 10.14 skrev {name} <{addr}>:",
    "no": "man. 8. jan. 2024 kl. 10:14 skrev {name} <{addr}>:",
    "ru": "пн, 8 янв. 2024\u202fг. в 10:14, {name} <{addr}>:",
    "uk": "пн, 8 січ. 2024\u202fр. о 10:14 {name} <{addr}> пише:",
    "zh": "{name} <{addr}> 于2024年1月8日周一 10:14写道：",
    "zh-tw": "{name} <{addr}> 於 2024年1月8日 週一 上午10:14寫道：",
    "ja": "2024年1月8日(月) 10:14 {name} <{addr}>:",
}
GMAIL_ANDROID_ATTR = "On Mon, 8 Jan 2024, 10:14 {name}, <{addr}> wrote:"

# Apple Mail (macOS, iOS)
APPLE_ATTR = {
    "en": "On 8 Jan 2024, at 10:14, {name} <{addr}> wrote:",
    "de": "Am 08.01.2024 um 10:14 schrieb {name} <{addr}>:",
    "fr": "Le 8 janv. 2024 à 10:14, {name} <{addr}> a écrit :",
    "es": "El 8 ene 2024, a las 10:14, {name} <{addr}> escribió:",
    "pt": "Em 8 de jan. de 2024, à(s) 10:14, {name} <{addr}> escreveu:",
    "it": "Il giorno 8 gen 2024, alle ore 10:14, {name} <{addr}> ha scritto:",
    "nl": "Op 8 jan 2024 om 10:14 heeft {name} <{addr}> het volgende geschreven:",
    "pl": "Wiadomość napisana przez {name} <{addr}> w dniu 8.01.2024, o godz. 10:14:",
    "sv": "8 jan. 2024 kl. 10:14 skrev {name} <{addr}>:",
    "da": "Den 8. jan. 2024 kl. 10.14 skrev {name} <{addr}>:",
    "no": "8. jan. 2024 kl. 10:14 skrev {name} <{addr}>:",
    "ru": "8 янв. 2024\u202fг., в 10:14, {name} <{addr}> написал(а):",
    "uk": "8 січ. 2024\u202fр. о 10:14 {name} <{addr}> пише:",
    "zh": "在 2024年1月8日，10:14，{name} <{addr}> 写道：",
    "zh-tw": "{name} <{addr}> 於 2024年1月8日 上午10:14 寫道：",
    "ja": "2024/01/08 10:14、{name} <{addr}>のメール:",
}

# Thunderbird
THUNDERBIRD_ATTR = {
    "en": "On 1/8/24 10:14 AM, {name} wrote:",
    "de": "Am 08.01.24 um 10:14 schrieb {name}:",
    "fr": "Le 08/01/2024 à 10:14, {name} a écrit :",
    "es": "El 8/1/24 a las 10:14, {name} escribió:",
    "pt": "Em 08/01/2024 10:14, {name} escreveu:",
    "it": "Il 08/01/24 10:14, {name} ha scritto:",
    "nl": "Op 08-01-2024 om 10:14 schreef {name}:",
    "pl": "W dniu 8.01.2024 o 10:14, {name} pisze:",
    "sv": "2024-01-08 kl. 10:14, skrev {name}:",
    "da": "Den 08-01-2024 kl. 10:14 skrev {name}:",
    "no": "08.01.2024 10:14, skrev {name}:",
    "ru": "08.01.2024 10:14, {name} пишет:",
    "uk": "08.01.24 10:14, {name} пише:",
    "zh": "在 2024/1/8 10:14, {name} 写道:",
    "zh-tw": "於 2024/1/8 上午 10:14, {name} 寫道:",
    "ja": "2024/01/08 10:14, {name} wrote:",
}

# Yahoo Mail: an indented attribution, the quote without ">" markers
YAHOO_ATTR = "On Monday, January 8, 2024 at 10:14:00 AM GMT+1, {name} <{addr}> wrote:"
PROTON_ATTR = "On Monday, January 8th, 2024 at 10:14, {name} <{addr}> wrote:"

# Outlook header blocks: (From, Sent, To, Subject) labels and the date as Outlook writes it
OUTLOOK_LABELS = {
    "en": ("From", "Sent", "To", "Subject", "Monday, January 8, 2024 10:14 AM"),
    "de": ("Von", "Gesendet", "An", "Betreff", "Montag, 8. Januar 2024 10:14"),
    "fr": ("De", "Envoyé", "À", "Objet", "lundi 8 janvier 2024 10:14"),
    "es": ("De", "Enviado el", "Para", "Asunto", "lunes, 8 de enero de 2024 10:14"),
    "pt": ("De", "Enviado", "Para", "Assunto", "segunda-feira, 8 de janeiro de 2024 10:14"),
    "it": ("Da", "Inviato", "A", "Oggetto", "lunedì 8 gennaio 2024 10:14"),
    "nl": ("Van", "Verzonden", "Aan", "Onderwerp", "maandag 8 januari 2024 10:14"),
    "pl": ("Od", "Wysłano", "Do", "Temat", "poniedziałek, 8 stycznia 2024 10:14"),
    "sv": ("Från", "Skickat", "Till", "Ämne", "den 8 januari 2024 10:14"),
    "da": ("Fra", "Sendt", "Til", "Emne", "8. januar 2024 10:14"),
    "no": ("Fra", "Sendt", "Til", "Emne", "mandag 8. januar 2024 10:14"),
    "ru": ("От", "Отправлено", "Кому", "Тема", "8 января 2024 г. 10:14"),
    "uk": ("Від", "Надіслано", "Кому", "Тема", "8 січня 2024 р. 10:14"),
    "zh": ("发件人", "发送时间", "收件人", "主题", "2024年1月8日 10:14"),
    "zh-tw": ("寄件者", "傳送時間", "收件者", "主旨", "2024年1月8日 上午 10:14"),
    "ja": ("差出人", "送信日時", "宛先", "件名", "2024年1月8日 10:14"),
}
ORIGINAL_SEPARATOR = {
    "en": "-----Original Message-----",
    "de": "-----Ursprüngliche Nachricht-----",
    "fr": "-----Message d'origine-----",
    "es": "-----Mensaje original-----",
    "pt": "-----Mensagem original-----",
    "it": "-----Messaggio originale-----",
    "nl": "-----Oorspronkelijk bericht-----",
    "pl": "-----Wiadomość oryginalna-----",
    "sv": "-----Ursprungligt meddelande-----",
    "da": "-----Oprindelig meddelelse-----",
    "no": "-----Opprinnelig melding-----",
    "ru": "-----Исходное сообщение-----",
    "uk": "-----Оригінальне повідомлення-----",
    "zh": "-----原始邮件-----",
    "zh-tw": "-----原始郵件-----",
    "ja": "-----元のメッセージ-----",
}
# Zimbra: "----- Original Message -----" and its localised forms
ZIMBRA_SEPARATOR = {
    "en": "----- Original Message -----",
    "de": "----- Ursprüngliche Mail -----",
    "fr": "----- Mail original -----",
    "es": "----- Mensaje original -----",
    "it": "----- Messaggio originale -----",
    "pt": "----- Mensagem original -----",
    "nl": "----- Oorspronkelijk bericht -----",
    "pl": "----- Oryginalna wiadomość -----",
    "ru": "----- Исходное сообщение -----",
}

# Help desks, forums and trackers put a marker at the top of their notifications.
HELPDESK_MARKERS = [
    ("##- Please type your reply above this line -##", "Zendesk-style ticket notification"),
    ("-- Reply above this line --", "Help Scout-style conversation notification"),
    ("---- Reply above this line ----", "Jira Service Management-style request notification"),
    ("Reply above this line to add a comment", "issue tracker comment notification"),
    ("## Please do not write below this line ##", "Freshservice-style ticket notification"),
    ("##- Bitte geben Sie Ihre Antwort oberhalb dieser Zeile ein. -##", "German help desk"),
    ("--- Répondez au-dessus de cette ligne ---", "French help desk"),
    ("## Por favor, escriba su respuesta encima de esta línea ##", "Spanish help desk"),
    ("-- Responda acima desta linha --", "Portuguese help desk"),
    ("--- Rispondi sopra questa riga ---", "Italian help desk"),
    ("-- Antwoord boven deze regel --", "Dutch help desk"),
    ("-- Odpowiedz powyżej tej linii --", "Polish help desk"),
    ("—— Ответьте выше этой строки ——", "Russian help desk"),
    ("—— 请在此行上方回复 ——", "Chinese help desk"),
    ("―― この行より上に返信してください ――", "Japanese help desk"),
]

PHONE_SIGNATURE = {
    "en": "Sent from my iPhone",
    "de": "Von meinem iPhone gesendet",
    "fr": "Envoyé de mon iPhone",
    "es": "Enviado desde mi iPhone",
    "pt": "Enviado do meu iPhone",
    "it": "Inviato da iPhone",
    "nl": "Verstuurd vanaf mijn iPhone",
    "pl": "Wysłane z iPhone'a",
    "sv": "Skickat från min iPhone",
    "da": "Sendt fra min iPhone",
    "no": "Sendt fra min iPhone",
    "ru": "Отправлено с iPhone",
    "uk": "Надіслано з iPhone",
    "zh": "发自我的iPhone",
    "zh-tw": "從我的 iPhone 傳送",
    "ja": "iPhoneから送信",
}


# --- building messages ---------------------------------------------------------------------


@dataclass
class Case:
    client: str
    lang: str
    source: str
    expected: str
    plain: str | None = None
    html: str | None = None
    charset: str = "utf-8"
    cte: str = "quoted-printable"
    declared: str | None = "same"  # "same": the charset used; None: no charset parameter
    headers: dict[str, str] = field(default_factory=dict)
    quirk: str = ""


def quoted(lines: list[str], prefix: str = "> ") -> str:
    return "\n".join((prefix + line).rstrip() if line else prefix.rstrip() for line in lines)


def html_text(text: str) -> str:
    return "<br>\n".join(html.escape(line) for line in text.split("\n"))


def html_paragraphs(text: str) -> str:
    return "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in text.split("\n"))


def encode_part(text: str, charset: str, cte: str) -> tuple[bytes, str]:
    raw = text.replace("\n", "\r\n").encode(charset)
    if cte == "base64":
        encoded = base64.encodebytes(raw)
    elif cte == "quoted-printable":
        encoded = quopri.encodestring(raw)
    else:
        cte = "8bit" if not raw.isascii() else "7bit"
        encoded = raw
    return encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), cte


def leaf(ctype: str, text: str, case: Case) -> bytes:
    sent = case.charset
    payload, cte = encode_part(text, sent, case.cte)
    declared = sent if case.declared == "same" else case.declared
    params = f"; charset={declared}" if declared else ""
    if ctype == "text/plain" and case.client.startswith("thunderbird") and case.cte == "8bit":
        params += "; format=flowed"
    head = f"Content-Type: {ctype}{params}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
    return head.encode() + payload


def build(case: Case, number: int) -> bytes:
    subject = {
        "en": "Re: Approve refund of $40.00 for order 4711?",
        "de": "AW: Approve refund of $40.00 for order 4711?",
        "nl": "RE: Approve refund of $40.00 for order 4711?",
        "sv": "SV: Approve refund of $40.00 for order 4711?",
        "da": "SV: Approve refund of $40.00 for order 4711?",
        "no": "SV: Approve refund of $40.00 for order 4711?",
        "pl": "Odp: Approve refund of $40.00 for order 4711?",
        "zh": "回复: Approve refund of $40.00 for order 4711?",
        "zh-tw": "回覆: Approve refund of $40.00 for order 4711?",
        "ja": "Re: Approve refund of $40.00 for order 4711?",
    }.get(case.lang, "Re: Approve refund of $40.00 for order 4711?")
    head = [
        f"From: Anna Berg <anna.berg{number}@example.org>",
        f"To: {AGENT}",
        f"Subject: {subject}",
        "Date: Mon, 08 Jan 2024 10:21:07 +0100",
        f"Message-ID: <reply-{number:03d}.{case.client}@example.org>",
        "In-Reply-To: <ask-4711.r1@example.test>",
        "References: <ask-4711.r1@example.test>",
        "MIME-Version: 1.0",
    ]
    head.extend(f"{k}: {v}" for k, v in case.headers.items())
    parts: list[bytes] = []
    if case.plain is not None:
        parts.append(leaf("text/plain", case.plain, case))
    if case.html is not None:
        parts.append(leaf("text/html", case.html, case))
    boundary = f"=_hl_{number:03d}_{case.client}"
    if case.quirk == "attachment-first":
        # a text file attached ahead of the body (some phone clients order parts so)
        attachment = (
            b'Content-Type: text/plain; charset=utf-8; name="order-4711.txt"\r\n'
            b'Content-Disposition: inline; filename="order-4711.txt"\r\n\r\n'
            b"Order 4711\r\nAPPROVE: yes\r\n"
        )
        inner = boundary + "-alt"
        alternative = f'Content-Type: multipart/alternative; boundary="{inner}"\r\n\r\n'.encode()
        for part in parts:
            alternative += b"--" + inner.encode() + b"\r\n" + part + b"\r\n"
        alternative += b"--" + inner.encode() + b"--\r\n"
        parts = [attachment, alternative]
        ctype = f'Content-Type: multipart/mixed; boundary="{boundary}"'
    elif len(parts) == 1:
        body_part = parts[0]
        header_end = body_part.index(b"\r\n\r\n")
        head.extend(body_part[:header_end].decode().split("\r\n"))
        raw = "\r\n".join(head).encode() + b"\r\n\r\n" + body_part[header_end + 4 :]
        return _quirk(raw, case)
    else:
        ctype = f'Content-Type: multipart/alternative; boundary="{boundary}"'
    if case.quirk == "no-boundary":
        ctype = "Content-Type: multipart/alternative"
    elif case.quirk == "wrong-boundary":
        ctype = 'Content-Type: multipart/alternative; boundary="not-the-one-used"'
    head.append(ctype)
    body = b"This is a multi-part message in MIME format.\r\n\r\n"
    for part in parts:
        body += b"--" + boundary.encode() + b"\r\n" + part + b"\r\n"
    body += b"--" + boundary.encode() + b"--\r\n"
    return _quirk("\r\n".join(head).encode() + b"\r\n\r\n" + body, case)


def _quirk(raw: bytes, case: Case) -> bytes:
    if case.quirk == "blank-line-first":
        return b"\r\n" + raw
    return raw


# --- client templates: (plain, html) for a new text, in the client's reply shape ------------


def gmail(lang: str, new: str, *, variant: str = "web") -> tuple[str, str, str]:
    attr = (GMAIL_ANDROID_ATTR if variant == "android" else GMAIL_ATTR[lang]).format(
        name=AGENT_NAME, addr=AGENT_ADDR
    )
    plain = f"{new}\n\n{attr}\n\n{quoted(QUOTE)}\n"
    page = (
        f'<div dir="ltr">{html_text(new)}</div><br><div class="gmail_quote">'
        f'<div dir="ltr" class="gmail_attr">{html.escape(attr)}<br></div>'
        '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
        f'rgb(204,204,204);padding-left:1ex">{html_text(chr(10).join(QUOTE))}</blockquote></div>\n'
    )
    source = {
        "web": "Gmail web: attribution in div.gmail_attr (localised 'On … wrote:'), quote in "
        "blockquote.gmail_quote; text/plain with '>' quoting",
        "android": "Gmail for Android: 'On <date>, <name>, <addr> wrote:' with a comma after "
        "the name; HTML gmail_quote",
        "ios": "Gmail for iOS: attribution without AM/PM, HTML gmail_quote",
    }[variant]
    return plain, page, source


def outlook_desktop(lang: str, new: str, *, separator: str = "line") -> tuple[str, str, str]:
    frm, sent, to, subj, date = OUTLOOK_LABELS[lang]
    block = (
        f"{frm}: {AGENT_NAME} <{AGENT_ADDR}>\n{sent}: {date}\n{to}: Anna Berg "
        f"<anna.berg@example.org>\n{subj}: Approve refund of $40.00 for order 4711?"
    )
    line = "________________________________" if separator == "line" else ORIGINAL_SEPARATOR[lang]
    plain = f"{new}\n\n{line}\n{block}\n\n" + "\n".join(QUOTE) + "\n"
    header_html = "<br>".join(
        f"<b>{html.escape(row.split(':', 1)[0])}:</b>{html.escape(row.split(':', 1)[1])}"
        for row in block.split("\n")
    )
    page = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta name="Generator" '
        'content="Microsoft Word 15 (filtered medium)"><style>p.MsoNormal{margin:0cm}</style>'
        '</head><body lang="EN-US"><div class="WordSection1">'
        + "".join(f'<p class="MsoNormal">{html.escape(x) or "&nbsp;"}</p>' for x in new.split("\n"))
        + '<p class="MsoNormal">&nbsp;</p><div><div style="border:none;border-top:solid #E1E1E1 '
        f'1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class="MsoNormal">{header_html}</p></div></div>'
        + "".join(f'<p class="MsoNormal">{html.escape(x) or "&nbsp;"}</p>' for x in QUOTE)
        + "</div></body></html>\n"
    )
    source = (
        "Outlook for Windows: localised From/Sent/To/Subject block under a rule (text: "
        f"'{'____' if separator == 'line' else 'Original Message'}' separator), HTML border-top "
        "#E1E1E1 header div, quote not marked"
    )
    return plain, page, source


def outlook_web(lang: str, new: str) -> tuple[str, str, str]:
    frm, sent, to, subj, date = OUTLOOK_LABELS[lang]
    plain = (
        f"{new}\n\n________________________________\n{frm}: {AGENT_NAME} <{AGENT_ADDR}>\n"
        f"{sent}: {date}\n{to}: Anna Berg <anna.berg@example.org>\n{subj}: Approve refund\n\n"
        + "\n".join(QUOTE)
        + "\n"
    )
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} '
        '</style></head><body dir="ltr"><div class="elementToProof" style="font-family: Aptos, '
        f'sans-serif; font-size: 12pt;">{html_text(new)}</div><div id="appendonsend"></div>'
        '<hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" '
        f'dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt"><b>{frm}:</b> '
        f"{AGENT_NAME} &lt;{AGENT_ADDR}&gt;<br><b>{sent}:</b> {date}<br><b>{to}:</b> Anna Berg"
        f"<br><b>{subj}:</b> Approve refund</font><div>&nbsp;</div></div>"
        f"<div>{html_text(chr(10).join(QUOTE))}</div></body></html>\n"
    )
    source = (
        "Outlook on the web / Outlook.com: div.elementToProof body, empty div#appendonsend, "
        "<hr>, div#divRplyFwdMsg header block, unmarked quote"
    )
    return plain, page, source


def outlook_ios(lang: str, new: str) -> tuple[str, str, str]:
    frm, sent, to, subj, date = OUTLOOK_LABELS[lang]
    plain = (
        f"{new}\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n"
        f"________________________________\n{frm}: {AGENT_NAME} <{AGENT_ADDR}>\n{sent}: "
        f"{date}\n{to}: Anna Berg <anna.berg@example.org>\n{subj}: Approve refund\n\n"
        + "\n".join(QUOTE)
        + "\n"
    )
    page = (
        f'<html><body><div dir="auto">{html_text(new)}</div><div dir="auto"><br></div>'
        '<div id="ms-outlook-mobile-signature" dir="auto">Get <a href="https://aka.ms/o0ukef">'
        'Outlook for iOS</a></div><div id="ms-outlook-mobile-body-separator-line" dir="auto">'
        '<hr style="display:inline-block;width:98%" tabindex="-1"></div>'
        f'<div id="mail-editor-reference-message-container"><div id="divRplyFwdMsg" dir="ltr">'
        f"<b>{frm}:</b> {AGENT_NAME}<br><b>{sent}:</b> {date}</div>"
        f"<div>{html_text(chr(10).join(QUOTE))}</div></div></body></html>\n"
    )
    source = (
        "Outlook for iOS: 'Get Outlook for iOS' signature, a rule, header block; HTML "
        "ms-outlook-mobile-signature and mail-editor-reference-message-container"
    )
    return plain, page, source


def outlook_mac(lang: str, new: str) -> tuple[str, str, str]:
    frm, sent, to, subj, date = OUTLOOK_LABELS[lang]
    plain = (
        f"{new}\n\n{frm}: {AGENT_NAME} <{AGENT_ADDR}>\n{sent}: {date}\n{to}: Anna Berg "
        f"<anna.berg@example.org>\n{subj}: Approve refund\n\n" + "\n".join(QUOTE) + "\n"
    )
    page = (
        '<html><body><div name="messageBodySection"><div dir="auto">'
        f'{html_text(new)}</div></div><div name="messageReplySection">{frm}: {AGENT_NAME}<br>'
        f'{sent}: {date}<br><blockquote type="cite" style="margin: 5px 5px;">'
        f"{html_text(chr(10).join(QUOTE))}</blockquote></div></body></html>\n"
    )
    source = (
        "Outlook for Mac: named sections (messageBodySection, messageReplySection), header "
        "block without a rule in text/plain"
    )
    return plain, page, source


def apple(lang: str, new: str, *, ios: bool = False) -> tuple[str, str, str]:
    attr = APPLE_ATTR[lang].format(name=AGENT_NAME, addr=AGENT_ADDR)
    if ios:
        plain = f"{new}\n\n{PHONE_SIGNATURE[lang]}\n\n> {attr}\n> \n{quoted(QUOTE)}\n"
        page = (
            '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8">'
            f'</head><body dir="auto"><div dir="ltr">{html_text(new)}</div><div dir="ltr"><br>'
            f'<div id="AppleMailSignature" dir="ltr">{PHONE_SIGNATURE[lang]}</div><div dir="ltr">'
            f'<br><blockquote type="cite">{html.escape(attr)}<br><br></blockquote></div>'
            f'<blockquote type="cite"><div dir="ltr">{html_text(chr(10).join(QUOTE))}</div>'
            "</blockquote></div></body></html>\n"
        )
        source = (
            "Apple Mail on iOS: localised phone signature, quoted attribution '> On … wrote:', "
            "HTML blockquote type=cite and div#AppleMailSignature"
        )
    else:
        plain = f"{new}\n\n{attr}\n\n{quoted(QUOTE)}\n"
        page = (
            '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8">'
            '</head><body style="overflow-wrap: break-word; -webkit-nbsp-mode: space;">'
            f'{html_paragraphs(new)}<div><br><blockquote type="cite"><div>{html.escape(attr)}'
            '</div><br class="Apple-interchange-newline"><div><div>'
            f"{html_text(chr(10).join(QUOTE))}</div></div></blockquote></div><br></body></html>\n"
        )
        source = (
            "Apple Mail on macOS: localised attribution above a '>' quote; HTML attribution "
            "and quote inside blockquote type=cite"
        )
    return plain, page, source


def thunderbird(lang: str, new: str) -> tuple[str, str, str]:
    attr = THUNDERBIRD_ATTR[lang].format(name=AGENT_NAME)
    plain = f"{new}\n\n{attr}\n{quoted(QUOTE)}\n"
    page = (
        '<!DOCTYPE html><html><head><meta http-equiv="content-type" content="text/html; '
        f'charset=UTF-8"></head><body><p>{html_text(new)}</p><div class="moz-cite-prefix">'
        f'{html.escape(attr)}<br></div><blockquote type="cite" cite="mid:ask-4711.r1@example.test">'
        f'<pre class="moz-quote-pre" wrap="">{html.escape(chr(10).join(QUOTE))}</pre>'
        "</blockquote></body></html>\n"
    )
    source = (
        "Thunderbird: localised 'On <date>, <name> wrote:' prefix (no address), '>' quote, "
        "format=flowed text; HTML div.moz-cite-prefix + blockquote type=cite"
    )
    return plain, page, source


def yahoo(lang: str, new: str, *, android: bool = False) -> tuple[str, str, str]:
    attr = YAHOO_ATTR.format(name=AGENT_NAME, addr=AGENT_ADDR)
    signature = "\n\nSent from Yahoo Mail on Android" if android else ""
    plain = (
        f"{new}{signature}\n\n    {attr}  \n \n " + "\n ".join(QUOTE) + "\n"
    )  # Yahoo indents the quote instead of marking it
    page = (
        '<html><head></head><body><div class="ydp2e1f0yahoo-style-wrap" style="font-family:'
        f'Helvetica Neue, Helvetica, Arial, sans-serif;font-size:13px;">{html_paragraphs(new)}'
        + (
            '<div id="ymail_android_signature"><a id="ymail_android_signature_link" '
            'href="https://go.onelink.me/107872968?pid=InProduct">Sent from Yahoo Mail on '
            "Android</a></div>"
            if android
            else ""
        )
        + '</div><div id="ydp8a1dyahoo_quoted_3041" class="ydp8a1dyahoo_quoted"><div '
        f'style="font-family:Helvetica Neue;font-size:13px;color:#26282a;"><div>{html.escape(attr)}'
        f'</div><div><br></div><div><br></div><div><div dir="ltr">{html_text(chr(10).join(QUOTE))}'
        "</div></div></div></div></body></html>\n"
    )
    source = (
        "Yahoo Mail: indented attribution, quote indented with a space instead of '>'; HTML "
        "ydp…yahoo_quoted container ids/classes"
        + ("; 'Sent from Yahoo Mail on Android' (ymail_android_signature)" if android else "")
    )
    return plain, page, source


def protonmail(lang: str, new: str) -> tuple[str, str, str]:
    attr = PROTON_ATTR.format(name=AGENT_NAME, addr=AGENT_ADDR)
    plain = f"{new}\n\nSent with Proton Mail secure email.\n\n{attr}\n\n{quoted(QUOTE)}\n"
    page = (
        f'<div style="font-family: Arial, sans-serif; font-size: 14px;">{html_text(new)}</div>'
        '<div style="font-family: Arial, sans-serif; font-size: 14px;"><br></div>'
        '<div class="protonmail_signature_block" style="font-family: Arial, sans-serif; '
        'font-size: 14px;"><div class="protonmail_signature_block-proton">Sent with <a '
        'target="_blank" href="https://proton.me/">Proton Mail</a> secure email.</div></div>'
        f'<div class="protonmail_quote">{html.escape(attr)}<br><br><blockquote '
        f'class="protonmail_quote" type="cite">{html_text(chr(10).join(QUOTE))}</blockquote>'
        "<br></div>\n"
    )
    source = (
        "Proton Mail: 'Sent with Proton Mail secure email.' signature, 'On <weekday>, <month> "
        "<nth>, <year> at <time>, … wrote:'; HTML protonmail_signature_block + protonmail_quote"
    )
    return plain, page, source


def zimbra(lang: str, new: str) -> tuple[str, str, str]:
    separator = ZIMBRA_SEPARATOR.get(lang, ZIMBRA_SEPARATOR["en"])
    frm, sent, to, subj, date = OUTLOOK_LABELS[lang if lang in ZIMBRA_SEPARATOR else "en"]
    if lang == "en":
        frm, to, sent, subj = "From", "To", "Sent", "Subject"
    plain = (
        f'{new}\n\n{separator}\n{frm}: "{AGENT_NAME}" <{AGENT_ADDR}>\n{to}: "Anna Berg" '
        f"<anna.berg@example.org>\n{sent}: {date}\n{subj}: Approve refund\n\n"
        + "\n".join(QUOTE)
        + "\n"
    )
    page = (
        '<html><body><div style="font-family: arial, helvetica, sans-serif; font-size: 12pt; '
        f'color: #000000">{html_paragraphs(new)}<div><br></div><hr id="zwchr" '
        'data-marker="__DIVIDER__"><div data-marker="__HEADERS__"><b>'
        f'{frm}: </b>"{AGENT_NAME}" &lt;{AGENT_ADDR}&gt;<br><b>{to}: </b>Anna Berg<br><b>{sent}: '
        f'</b>{date}<br><b>{subj}: </b>Approve refund<br></div><div data-marker="__QUOTED_TEXT__">'
        f"{html_text(chr(10).join(QUOTE))}</div></div></body></html>\n"
    )
    source = (
        "Zimbra: localised '----- Original Message -----' separator and header block; HTML "
        "hr#zwchr, data-marker __HEADERS__/__QUOTED_TEXT__"
    )
    return plain, page, source


CLIENTS = {
    "gmail-web": lambda lang, new: gmail(lang, new),
    "gmail-android": lambda lang, new: gmail(lang, new, variant="android"),
    "gmail-ios": lambda lang, new: gmail(lang, new, variant="ios"),
    "outlook-desktop": lambda lang, new: outlook_desktop(lang, new),
    "outlook-original": lambda lang, new: outlook_desktop(lang, new, separator="original"),
    "outlook-web": outlook_web,
    "outlook-ios": outlook_ios,
    "outlook-mac": outlook_mac,
    "apple-mac": lambda lang, new: apple(lang, new),
    "apple-ios": lambda lang, new: apple(lang, new, ios=True),
    "thunderbird": thunderbird,
    "yahoo": lambda lang, new: yahoo(lang, new),
    "yahoo-android": lambda lang, new: yahoo(lang, new, android=True),
    "protonmail": protonmail,
    "zimbra": zimbra,
}
CTES = ("quoted-printable", "base64", "8bit")


def cases() -> list[Case]:
    out: list[Case] = []
    langs = list(NEW_TEXT)
    clients = list(CLIENTS)
    # 1. every client in every language it is used in: top-posted replies, alternating
    # between multipart/alternative (text/plain is read) and HTML only
    n = 0
    for ci, client in enumerate(clients):
        for li, lang in enumerate(langs):
            rare = client.startswith(("yahoo", "protonmail", "zimbra"))
            if (ci + li) % 2 and not rare:  # half the grid keeps the corpus readable
                continue
            if client == "zimbra" and lang not in ZIMBRA_SEPARATOR:
                continue
            if client.startswith(("yahoo", "protonmail", "gmail-android")) and lang not in (
                "en",
                "de",
                "fr",
                "es",
                "it",
                "ja",
                "zh",
            ):
                continue
            new = NEW_TEXT[lang][(ci + li) % len(NEW_TEXT[lang])]
            plain, page, source = CLIENTS[client](lang, new)
            html_only = n % 3 == 1
            legacy = LEGACY_CHARSETS[lang]
            charset = "utf-8" if n % 2 else legacy[n % len(legacy)]
            if charset == "us-ascii":
                charset = "utf-8"
            out.append(
                Case(
                    client=client,
                    lang=lang,
                    source=source + ("; HTML-only message" if html_only else ""),
                    expected=new,
                    plain=None if html_only else plain,
                    html=page,
                    charset=charset,
                    cte=CTES[n % 3],
                )
            )
            n += 1
    # 2. shapes: signatures, sign-offs, bottom posting, inline answers, only a quote
    for i, lang in enumerate(langs):
        new = NEW_TEXT[lang][i % 4]
        # a "-- " signature block (dropped) under a text with a sign-off (kept)
        text = f"{new}\n\n{SIGN_OFF[lang]}"
        plain, page, source = gmail(lang, f"{text}\n\n-- \nLena Fischer\nACME Retail GmbH")
        out.append(
            Case(
                "gmail-web",
                lang,
                "Gmail web with a hand-written closing and a '-- ' signature block (RFC 3676 "
                "sig dashes)",
                text,
                plain,
                page,
                cte=CTES[i % 3],
            )
        )
        # a phone signature (dropped)
        plain, page, source = apple(lang, new, ios=True)
        out.append(
            Case(
                "apple-ios",
                lang,
                source + "; HTML-only",
                new,
                None,
                page,
                charset=LEGACY_CHARSETS[lang][0] if lang != "en" else "utf-8",
                cte=CTES[(i + 1) % 3],
            )
        )
    for i, lang in enumerate(["en", "de", "fr", "es", "ru", "ja", "nl", "pl"]):
        new = NEW_TEXT[lang][2]
        attr = THUNDERBIRD_ATTR[lang].format(name=AGENT_NAME)
        out.append(
            Case(
                "thunderbird",
                lang,
                "Thunderbird, bottom-posted (reply under the quote, as mailing-list etiquette "
                "asks)",
                new,
                f"{attr}\n{quoted(QUOTE)}\n\n{new}\n",
                None,
                cte=CTES[i % 3],
            )
        )
    for i, lang in enumerate(["en", "de", "fr", "es", "it", "sv"]):
        a1, a2 = NEW_TEXT[lang][0], NEW_TEXT[lang][3].split("\n")[0]
        attr = GMAIL_ATTR[lang].format(name=AGENT_NAME, addr=AGENT_ADDR)
        body = f"{a2}\n\n{attr}\n\n> {QUOTE[0]}\n>\n> {QUOTE[2]}\n\n{a1}\n\n> {QUOTE[4]}\n\n{a2}\n"
        expected = f"{a2}\n\n> {QUOTE[0]}\n>\n> {QUOTE[2]}\n\n{a1}\n\n> {QUOTE[4]}\n\n{a2}"
        out.append(
            Case(
                "gmail-web",
                lang,
                "inline answers between quoted lines (interleaved posting); the quotes the "
                "answers refer to are kept with them",
                expected,
                body,
                None,
                cte=CTES[i % 3],
            )
        )
    for i, (client, lang) in enumerate(
        [
            ("gmail-web", "en"),
            ("gmail-web", "de"),
            ("gmail-web", "fr"),
            ("apple-mac", "en"),
            ("apple-mac", "es"),
            ("thunderbird", "de"),
            ("thunderbird", "en"),
            ("gmail-android", "en"),
        ]
    ):
        plain, page, source = CLIENTS[client](lang, "")
        out.append(
            Case(
                client,
                lang,
                source + "; sent without typing anything: only the attribution and the quote "
                "(new text is empty)",
                "",
                plain.lstrip("\n"),
                page,
                cte=CTES[i % 3],
            )
        )
    # 3. help desks, forums, trackers: their marker in the quoted notification
    for i, (marker, system) in enumerate(HELPDESK_MARKERS):
        lang = ["en", "de", "fr", "es", "pt", "it", "nl", "pl", "ru", "zh", "ja"][i % 11]
        new = NEW_TEXT[lang][i % 4]
        notification = [marker, "", "Ticket #4711 was updated.", "", *QUOTE]
        attr = GMAIL_ATTR[lang].format(name="Support", addr="support@helpdesk.example")
        if i % 2:
            plain = f"{new}\n\n{attr}\n\n{quoted(notification)}\n"
        else:  # Outlook does not mark the quote: the marker line itself must cut
            plain = f"{new}\n\n" + "\n".join(notification) + "\n"
        out.append(
            Case(
                "helpdesk",
                lang,
                f"reply to a {system}: the system's 'reply above this line' marker",
                new,
                plain,
                None,
                cte=CTES[i % 3],
            )
        )
    # 4. HTML the person formatted: lists, a blockquote written on purpose
    lists = [
        (
            "en",
            "<div>Two things:</div><ol><li>Approve order 4711.</li><li>Hold order 4712 until "
            "the photo arrives.</li></ol>",
            "Two things:\n\n1. Approve order 4711.\n2. Hold order 4712 until the photo arrives.",
        ),
        (
            "de",
            "<div>Bitte so:</div><ul><li>4711 erstatten</li><li>4712 abwarten</li></ul>"
            "<div>Danke</div>",
            "Bitte so:\n\n- 4711 erstatten\n- 4712 abwarten\n\nDanke",
        ),
        (
            "fr",
            "<p>Voici ma réponse :</p><ol><li><p>oui pour 4711</p></li><li><p>non pour 4712</p>"
            "<ul><li>photo manquante</li></ul></li></ol>",
            "Voici ma réponse :\n\n1. oui pour 4711\n2. non pour 4712\n  - photo manquante",
        ),
        (
            "ja",
            '<div>以下の通りです。</div><ol start="1"><li>4711は承認</li><li>4712は保留</li></ol>',
            "以下の通りです。\n\n1. 4711は承認\n2. 4712は保留",
        ),
        (
            "en",
            '<div>I agree with what the customer wrote:</div><blockquote style="margin:0 0 0 '
            '40px;border:none;padding:0px"><div>The box was crushed on arrival.</div>'
            "</blockquote><div>So yes, refund it.</div>",
            "I agree with what the customer wrote:\n\nThe box was crushed on arrival.\n\nSo yes, "
            "refund it.",
        ),
        (
            "es",
            "<div>Como dice el cliente:</div><blockquote><div>La caja llegó rota.</div>"
            "</blockquote><div>Aprobado.</div>",
            "Como dice el cliente:\n\nLa caja llegó rota.\n\nAprobado.",
        ),
    ]
    for i, (lang, body, expected) in enumerate(lists):
        attr = GMAIL_ATTR[lang].format(name=AGENT_NAME, addr=AGENT_ADDR)
        page = (
            f'<div dir="ltr">{body}</div><br><div class="gmail_quote"><div dir="ltr" '
            f'class="gmail_attr">{html.escape(attr)}<br></div><blockquote class="gmail_quote">'
            f"{html_text(chr(10).join(QUOTE))}</blockquote></div>"
        )
        out.append(
            Case(
                "gmail-web",
                lang,
                "Gmail web, HTML-only, formatted by the person (numbered/bulleted lists, the "
                "indent button's blockquote): markers and the on-purpose quote are kept",
                expected,
                None,
                page,
                cte=CTES[i % 3],
            )
        )
    # 5. signatures that are sentences, real phone signatures in text
    sentences = [
        ("en", "Sent from my desk, so this one is a considered yes: approve it."),
        ("en", "Sent from my laptop at the warehouse. The box really was crushed, approve."),
        ("en", "Sent from the airport lounge because this is urgent: approved."),
    ]
    for i, (lang, text) in enumerate(sentences):
        plain, page, source = gmail(lang, text)
        out.append(
            Case(
                "gmail-web",
                lang,
                "a sentence that starts like a phone signature ('Sent from my desk, …') is the "
                "person's text",
                text,
                plain,
                page,
                cte=CTES[i % 3],
            )
        )
    # 6. charsets: mislabelled or missing; structure: blank line first, broken boundaries
    charset_cases = [
        ("zh-tw", "utf-8", "big5", "a Big5 label on UTF-8 text (webmail that relabels)"),
        ("ja", "utf-8", "shift_jis", "a Shift_JIS label on UTF-8 text"),
        ("ru", "utf-8", "koi8-r", "a KOI8-R label on UTF-8 text"),
        ("de", "utf-8", "iso-8859-1", "an ISO-8859-1 label on UTF-8 text"),
        ("ja", "shift_jis", None, "Shift_JIS text with no charset parameter (old phone mailer)"),
        ("ja", "euc-jp", None, "EUC-JP text with no charset parameter"),
        ("ja", "iso-2022-jp", None, "ISO-2022-JP text with no charset parameter"),
        ("zh-tw", "big5", None, "Big5 text with no charset parameter"),
        ("zh", "gb2312", None, "GB2312 text with no charset parameter"),
        ("ru", "koi8-r", None, "KOI8-R text with no charset parameter"),
        ("ru", "windows-1251", None, "windows-1251 text with no charset parameter"),
        ("uk", "koi8-u", None, "KOI8-U text with no charset parameter"),
        ("fr", "iso-8859-1", None, "ISO-8859-1 text with no charset parameter"),
        ("ja", "shift_jis", "utf-8", "Shift_JIS text labelled UTF-8"),
        ("ru", "windows-1251", "utf-8", "windows-1251 text labelled UTF-8"),
    ]
    for i, (lang, sent, declared, note) in enumerate(charset_cases):
        new = NEW_TEXT[lang][i % 4]
        plain, page, source = thunderbird(lang, new) if i % 2 else gmail(lang, new)
        cte = ("8bit", "quoted-printable", "base64")[i % 3]
        out.append(
            Case(
                "thunderbird" if i % 2 else "gmail-web",
                lang,
                f"{note}; read as the bytes really are",
                new,
                plain,
                None,
                charset=sent,
                cte=cte,
                declared=declared,
            )
        )
    structure = [
        ("blank-line-first", "a blank line before the header block (a gateway that prepends one)"),
        ("blank-line-first", "a blank line before the header block, HTML-only"),
        ("no-boundary", "multipart/alternative without a boundary parameter"),
        ("wrong-boundary", "multipart/alternative whose boundary parameter is not the one used"),
        ("attachment-first", "a text file attached ahead of the body (name/filename params)"),
        ("attachment-first", "a text file attached ahead of an HTML-only body"),
    ]
    for i, (quirk, note) in enumerate(structure):
        lang = ["en", "de", "fr", "es", "ja", "en"][i]
        new = NEW_TEXT[lang][i % 4]
        plain, page, source = outlook_web(lang, new) if i % 2 else gmail(lang, new)
        out.append(
            Case(
                "outlook-web" if i % 2 else "gmail-web",
                lang,
                f"{source}; {note}",
                new,
                None if "HTML-only" in note else plain,
                page,
                cte=CTES[i % 3],
                quirk=quirk,
            )
        )
    return out


def main() -> None:
    for old in HERE.glob("*.eml"):
        old.unlink()
    index = {}
    for number, case in enumerate(cases(), start=1):
        name = f"{number:03d}-{case.client}-{case.lang}.eml"
        try:
            for text in (case.plain or "", case.html or ""):
                text.encode(case.charset)
        except UnicodeEncodeError:
            case.charset = "utf-8"  # the client would have chosen UTF-8 for this text
        raw = build(case, number)
        (HERE / name).write_bytes(raw)
        index[name] = {
            "expected": case.expected,
            "source": case.source,
            "client": case.client,
            "language": case.lang,
            "charset": case.charset,
            "declared_charset": case.charset if case.declared == "same" else case.declared,
            "transfer_encoding": case.cte,
            "body": "plain" if case.plain is not None else "html",
        }
    (HERE / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n")
    print(f"{len(index)} messages written to {HERE}")


if __name__ == "__main__":
    main()
