"""Decision corpus, written for hl-email (issue 9): replies that must never approve, and real
approvals. Each core text is wrapped in the shapes mail arrives in (top-posted over a Gmail,
Outlook or Apple Mail quote, with a signature, from a phone). ``python cases.py`` rewrites
must_not_approve.jsonl and approvals.jsonl beside it; the tests read those files.

Each case: {"text", "lang", "shape", "arguments"?}. Cores are grouped by shape so the test can
report which shape a failure belongs to.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The request the replies answer (the counter-offer check compares numbers with it).
ARGUMENTS = {"customer": "ACME GmbH", "amount": 120, "currency": "EUR", "order": "A-7731"}

GMAIL_QUOTE = (
    "\n\nOn Tue, 1 Dec 2026 at 09:14, Refund agent <agent@example.test> wrote:\n"
    "> ##- Please type your reply above this line -##\n>\n"
    "> Refund agent would like to run issue_refund.\n> Reply APPROVE or REJECT.\n"
)
OUTLOOK_QUOTE = (
    "\n\n________________________________\nFrom: Refund agent <agent@example.test>\n"
    "Sent: Tuesday, December 1, 2026 9:14 AM\nTo: Anna Berg <anna@example.test>\n"
    "Subject: Approve issue_refund?\n\n##- Please type your reply above this line -##\n"
    "Refund agent would like to run issue_refund.\n"
)
APPLE_QUOTE = (
    "\n\n> On 1 Dec 2026, at 09:14, Refund agent <agent@example.test> wrote:\n>\n"
    "> ##- Please type your reply above this line -##\n> Reply APPROVE or REJECT.\n"
)
SIGNATURE = "\n\n-- \nAnna Berg\nHead of Finance, ACME GmbH\n+49 30 1234 5678"
PHONE = "\n\nSent from my iPhone"

# --- must never approve ----------------------------------------------------------------------

NOT_APPROVALS: dict[str, dict[str, list[str]]] = {
    "en": {
        "negation": [
            "I don't approve",
            "Not approved.",
            "Yes, I do not approve this",
            "Approve? No.",
            "Please don't approve",
            "I can't approve this one",
            "Absolutely not",
            "Ok, no need",
            "Sure, but not today",
            "Fine, don't bother",
            "No. Don't do it",
            "Yes no",
            "Nope",
            "I wouldn't approve this",
            "yeah no",
            "Sure, not now",
            "Approved?? No!",
            "I do NOT approve",
            "ok, never mind the refund",
            "Nothing to approve here",
        ],
        "acknowledgement": [
            "Ok, noted.",
            "Yes, I received it",
            "Got it, thanks",
            "Ok, understood",
            "Noted with thanks",
            "Thanks for letting me know",
            "Seen.",
            "Ok, will do",
            "Roger that",
            "Ack",
            "Thanks, got the email",
            "Yes, I saw this",
        ],
        "deferral": [
            "Sure, I'll look at it tomorrow",
            "Ok, will discuss with the team",
            "Let me check",
            "Yes, but let me think about it",
            "OK, I'll get back to you",
            "Give me a day",
            "Approve later",
            "Hold on",
            "Wait",
            "Ok, let me review it first",
            "Not yet",
            "Yes, after lunch",
            "I need to check the invoice",
            "Will review on Monday",
            "Ok. Circle back next week",
            "Let me sleep on it",
        ],
        "condition": [
            "Yes pending legal review",
            "Approve it for $50 instead",
            "Approve on Monday",
            "Please confirm with finance first",
            "Check with legal and then proceed",
            "Normally I would approve this",
            "Yes if under 100",
            "Approved, but only half",
            "OK as long as the customer pays shipping",
            "Yes, once the invoice is paid",
            "Approve unless it is a duplicate",
            "Approved provided legal signs off",
            "Go ahead when the stock arrives",
            "Yes, subject to audit",
            "Approve 80 EUR",
            "Yes, make it 100",
            "Approved for 60 euros",
            "approve but lower the amount",
            "Yes, but reduce it",
            "Approve the smaller refund instead",
            "ok, only for ACME",
            "Yes, except the shipping costs",
            "approve, max 90",
            "Approved up to 100 EUR",
        ],
        "delegation": [
            "Ask Bob to approve it",
            "Nobody here would approve this",
            "Bob should decide",
            "Check with my manager",
            "Not my call",
            "Yes, ask finance",
            "Run it by legal",
            "Forward this to Maria",
            "Let Tom decide",
            "Someone else should approve",
            "Approve? Ask my boss",
            "Ok, loop in Sarah",
        ],
        "reject_inflected": [
            "I agree with the rejection",
            "ok with rejecting this",
            "Yes, reject it",
            "Sure, go ahead and reject it",
            "Agreed, decline",
            "Fine, cancel it",
            "Yes, deny the refund",
            "Ok, refusing this one",
            "Yes, the refund is denied",
            "Approved the cancellation",
            "Confirmed: rejection",
            "Yes, stop the refund",
        ],
        "retraction": [
            "Approve.\n\nSent from my iPhone\n\nWait, no!",
            "Yes.\n\nPS: actually don't",
            "Approved.\n-- \nAnna\n\nP.S. scratch that",
            "Yes. Never mind.",
            "Ok.\nOn second thought, no",
            "Approved. Oops, wrong email",
            "Yes — just kidding",
            "Approve.\n\nSent from my phone\nignore that, hit send too early",
            "Yes. Actually, hold off.",
            "Ok, go ahead. Sorry, my mistake, don't",
            "Approved\n\nThanks\nAnna\n\nPS ignore this",
            "Yes!\n\nUpdate: changed my mind",
        ],
        "sarcasm": [
            "Sure, approve it, what could go wrong",
            "Yeah right",
            "Sure sure",
            "Yeah yeah",
            "Approved 🙄",
            "Oh sure, great idea",
            "Ok lol",
            "Yes, obviously 😂",
            "Approve it, good luck with that",
            "Yes... over my dead body",
            "Sure thing, genius",
            "Approved /s",
        ],
        "question": [
            "Approve?",
            "Why?",
            "Yes? What is this for",
            "Can you send the invoice",
            "What is the order number",
            "Is this the ACME one",
            "Approved? Who asked",
            "Ok but why so much",
            "yes, what happens next",
            "How much exactly",
        ],
        "hedge": [
            "Maybe",
            "I think so",
            "Probably yes",
            "I guess",
            "Yes I suppose",
            "Not sure",
            "Fine I guess",
            "Ok, whatever",
            "No objection",
            "No problem",
            "Why not",
            "Approve, I think",
            "Yeah, possibly",
            "Hmm, ok",
            "It depends",
        ],
        "incomplete": [
            "Yes I received the invoice",
            "Approve the other one",
            "Go ahead with the cheaper option",
            "Ok so what now",
            "Yes please send me the details",
            "Approved for the EU customers",
            "Approve tomorrow morning",
            "Looks good except the amount",
            "Thanks",
            "Thank you for the details.",
            "Hi Bob,",
            "The refund",
        ],
    },
    "de": {
        "negation": [
            "Nicht genehmigt",
            "Ja, aber nicht heute",
            "Ich genehmige das nicht",
            "Ok, nicht nötig",
            "Genehmigt? Nein.",
            "Nein danke",
            "Bitte nicht",
            "Ja, ich bin nicht einverstanden",
            "Auf keinen Fall",
        ],
        "acknowledgement": [
            "Ok, notiert.",
            "Ja, habe ich erhalten",
            "Alles klar, gesehen",
            "Verstanden",
        ],
        "deferral": [
            "Ich schaue es mir morgen an",
            "Ok, ich bespreche das mit dem Team",
            "Moment",
            "Ja, später",
            "Ich melde mich",
            "Warte noch",
        ],
        "condition": [
            "Ja, wenn der Kunde zahlt",
            "Genehmigt, aber nur die Hälfte",
            "Ja, vorbehaltlich Prüfung",
            "Freigegeben für 80 Euro",
            "Ja, sofern Legal zustimmt",
            "Ok, erst nach Rücksprache",
        ],
        "delegation": [
            "Frag bitte Bob",
            "Das muss mein Chef entscheiden",
            "Ja, frag die Buchhaltung",
        ],
        "reject_inflected": ["Ich bin für die Ablehnung", "Ja, ablehnen", "Ok, abgelehnt"],
        "retraction": [
            "Ja.\n\nVon meinem iPhone gesendet\n\nDoch nicht!",
            "Genehmigt. Vergiss es.",
            "Ja. Moment mal, nein",
            "Freigegeben\n\nPS: war ein Scherz",
        ],
        "sarcasm": ["Ja klar doch", "Jaja", "Genehmigt 🙄"],
        "question": ["Genehmigen?", "Warum so viel", "Ja, wer hat das bestellt"],
        "hedge": ["Vielleicht", "Ich glaube schon", "Ja, wahrscheinlich", "Kein Problem"],
    },
    "fr": {
        "negation": [
            "Je n´approuve pas",
            "Pas approuvé",
            "Oui, mais pas aujourd'hui",
            "Non merci",
            "D'accord, pas besoin",
            "Je ne suis pas d'accord",
            "Surtout pas",
            "Oui non",
        ],
        "acknowledgement": ["Ok, noté.", "Oui, bien reçu", "Compris", "C'est noté, merci"],
        "deferral": [
            "Je regarde demain",
            "Ok, je vais en parler à l'équipe",
            "Attends",
            "Oui, plus tard",
            "Je reviens vers vous",
        ],
        "condition": [
            "Oui si le client paie",
            "Approuvé, mais seulement la moitié",
            "Oui, sous réserve de l'audit",
            "Validé pour 80 euros",
            "D'accord à condition que le juridique valide",
        ],
        "delegation": ["Demande à Paul", "Mon chef doit décider", "Oui, voir avec la compta"],
        "reject_inflected": ["Je suis d'accord avec le refus", "Oui, refusez", "Ok, rejetez-le"],
        "retraction": ["Oui.\n\nEnvoyé de mon iPhone\n\nEn fait non", "Approuvé. Laisse tomber."],
        "sarcasm": ["Mais bien sûr", "Oui mdr"],
        "question": ["Pourquoi ?", "Oui, c'est pour quel client"],
        "hedge": ["Peut-être", "Je pense que oui", "Pas de souci"],
    },
    "es": {
        "negation": [
            "No aprobado",
            "Sí, pero no hoy",
            "No lo apruebo",
            "Vale, no hace falta",
            "No gracias",
            "Sí, no estoy de acuerdo",
            "De ninguna manera",
        ],
        "acknowledgement": ["Ok, anotado.", "Sí, recibido", "Entendido"],
        "deferral": ["Lo miro mañana", "Ok, lo hablo con el equipo", "Espera", "Sí, luego"],
        "condition": [
            "Sí si el cliente paga",
            "Aprobado, pero solo la mitad",
            "Sí, siempre que legal lo revise",
            "Aprobado por 80 euros",
            "Adelante cuando llegue el stock",
        ],
        "delegation": ["Pregúntale a Juan", "Lo tiene que decidir mi jefe"],
        "reject_inflected": ["Estoy de acuerdo con el rechazo", "Sí, recházalo"],
        "retraction": ["Sí.\n\nEnviado desde mi iPhone\n\nMejor no", "Aprobado. Olvídalo."],
        "sarcasm": ["Sí, claro", "Sí jajaja"],
        "question": ["¿Por qué?", "Sí, ¿para qué cliente?"],
        "hedge": ["Quizás", "Creo que sí", "Tal vez", "No hay problema"],
    },
    "pt": {
        "negation": [
            "Não aprovado",
            "Sim, mas não hoje",
            "Não aprovo",
            "Ok, não precisa",
            "Nao",
            "Sim, não concordo",
            "De jeito nenhum",
        ],
        "acknowledgement": ["Ok, anotado.", "Sim, recebido", "Ciente"],
        "deferral": [
            "Vou ver amanhã",
            "Ok, vou conversar com a equipe",
            "Espera",
            "Sim, mais tarde",
        ],
        "condition": [
            "Sim se o cliente pagar",
            "Aprovado, mas só a metade",
            "Sim, desde que o jurídico aprove",
            "Aprovado por 80 euros",
        ],
        "delegation": ["Pergunte ao João", "Meu chefe tem que decidir"],
        "reject_inflected": ["Concordo com a rejeição", "Sim, recuse"],
        "retraction": ["Sim.\n\nEnviado do meu iPhone\n\nNa verdade não", "Aprovado. Esquece."],
        "sarcasm": ["Sim, claro kkkk", "Claro, claro"],
        "question": ["Por quê?", "Sim, qual cliente?"],
        "hedge": ["Talvez", "Acho que sim", "Sem problema"],
    },
    "it": {
        "negation": [
            "Non approvato",
            "Sì, ma non oggi",
            "Non lo approvo",
            "Ok, non serve",
            "No grazie",
            "Sì, non sono d'accordo",
        ],
        "acknowledgement": ["Ok, preso nota.", "Sì, ricevuto", "Capito"],
        "deferral": ["Guardo domani", "Ok, ne parlo con il team", "Aspetta", "Sì, più tardi"],
        "condition": [
            "Sì se il cliente paga",
            "Approvato, ma solo la metà",
            "Sì, purché l'ufficio legale approvi",
            "Approvato per 80 euro",
            "Prima, di procedere controlla il conto",
        ],
        "delegation": ["Chiedi a Marco", "Deve decidere il mio capo"],
        "reject_inflected": ["Sono d'accordo con il rifiuto", "Sì, rifiutalo"],
        "retraction": ["Sì.\n\nInviato da iPhone\n\nAnzi no", "Approvato. Lascia perdere."],
        "sarcasm": ["Sì, certo ahahah"],
        "question": ["Perché?", "Sì, per quale cliente?"],
        "hedge": ["Forse", "Credo di sì", "Nessun problema"],
    },
    "nl": {
        "negation": [
            "Niet akkoord",
            "Niet goedgekeurd",
            "Ja, maar niet vandaag",
            "Ik keur het niet goed",
            "Ok, niet nodig",
            "Nee hoor",
        ],
        "acknowledgement": ["Ok, genoteerd.", "Ja, ontvangen", "Begrepen"],
        "deferral": [
            "Ik kijk er morgen naar",
            "Ok, ik overleg met het team",
            "Wacht even",
            "Ja, straks",
        ],
        "condition": [
            "Ja als de klant betaalt",
            "Akkoord, maar alleen de helft",
            "Goedgekeurd voor 80 euro",
        ],
        "delegation": ["Vraag het aan Jan", "Mijn manager moet beslissen"],
        "reject_inflected": ["Ik ben het eens met de afwijzing", "Ja, afwijzen"],
        "retraction": ["Ja.\n\nVerzonden vanaf mijn iPhone\n\nLaat maar", "Akkoord. Toch niet."],
        "sarcasm": ["Ja ja", "Ja hoor, tuurlijk"],
        "question": ["Waarom?", "Ja, voor welke klant?"],
        "hedge": ["Misschien", "Ik denk het wel", "Geen probleem"],
    },
    "pl": {
        "negation": [
            "Nie zatwierdzam",
            "Tak, ale nie dzisiaj",
            "Nie zgadzam się",
            "Ok, nie trzeba",
            "Niezatwierdzone",
            "Nie, dziękuję",
        ],
        "acknowledgement": ["Ok, odnotowane.", "Tak, otrzymałem", "Rozumiem"],
        "deferral": ["Sprawdzę jutro", "Ok, omówię z zespołem", "Poczekaj", "Tak, później"],
        "condition": [
            "Tak, jeśli klient zapłaci",
            "Zatwierdzam, ale tylko połowę",
            "Zgoda na 80 euro",
        ],
        "delegation": ["Zapytaj Piotra", "Musi zdecydować mój szef"],
        "reject_inflected": ["Zgadzam się z odrzuceniem", "Tak, odrzuć"],
        "retraction": ["Tak.\n\nWysłane z iPhone'a\n\nJednak nie", "Zatwierdzam. Nieważne."],
        "sarcasm": ["Tak, jasne, haha"],
        "question": ["Dlaczego?", "Tak, dla którego klienta?"],
        "hedge": ["Może", "Chyba tak", "Nie ma problemu"],
    },
    "sv": {
        "negation": [
            "Inte godkänd",
            "Inte godkänt",
            "Ja, men inte idag",
            "Jag godkänner inte",
            "Ok, inte nödvändigt",
            "Nej tack",
        ],
        "acknowledgement": ["Ok, noterat.", "Ja, mottaget", "Uppfattat"],
        "deferral": [
            "Jag tittar på det imorgon",
            "Ok, jag diskuterar med teamet",
            "Vänta",
            "Ja, senare",
        ],
        "condition": ["Ja om kunden betalar", "Godkänt, men bara hälften", "Godkänd för 80 euro"],
        "delegation": ["Fråga Erik", "Min chef måste bestämma"],
        "reject_inflected": ["Jag håller med om avslaget", "Ja, avvisa"],
        "retraction": ["Ja.\n\nSkickat från min iPhone\n\nGlöm det", "Godkänt. Nej förresten."],
        "sarcasm": ["Ja, visst haha"],
        "question": ["Varför?", "Ja, vilken kund?"],
        "hedge": ["Kanske", "Jag tror det", "Inga problem"],
    },
    "da": {
        "negation": [
            "Ikke godkendt",
            "Ja, men ikke i dag",
            "Jeg godkender ikke",
            "Ok, ikke nødvendigt",
            "Nej tak",
            "Ikke enig",
        ],
        "acknowledgement": ["Ok, noteret.", "Ja, modtaget", "Forstået"],
        "deferral": [
            "Jeg kigger på det i morgen",
            "Ok, jeg diskuterer det med teamet",
            "Vent",
            "Ja, senere",
        ],
        "condition": [
            "Ja hvis kunden betaler",
            "Godkendt, men kun halvdelen",
            "Godkendt for 80 euro",
        ],
        "delegation": ["Spørg Lars", "Min chef skal beslutte det"],
        "reject_inflected": ["Jeg er enig i afvisningen", "Ja, afvis"],
        "retraction": ["Ja.\n\nSendt fra min iPhone\n\nGlem det", "Godkendt. For sjov."],
        "sarcasm": ["Ja ja"],
        "question": ["Hvorfor?", "Ja, hvilken kunde?"],
        "hedge": ["Måske", "Jeg tror det", "Intet problem"],
    },
    "no": {
        "negation": [
            "Ikke godkjent",
            "Ja, men ikke i dag",
            "Jeg godkjenner ikke",
            "Ok, ikke nødvendig",
            "Nei takk",
            "Ikke enig",
        ],
        "acknowledgement": ["Ok, notert.", "Ja, mottatt", "Forstått"],
        "deferral": [
            "Jeg ser på det i morgen",
            "Ok, jeg diskuterer det med teamet",
            "Vent",
            "Ja, senere",
        ],
        "condition": [
            "Ja hvis kunden betaler",
            "Godkjent, men bare halvparten",
            "Godkjent for 80 euro",
        ],
        "delegation": ["Spør Ola", "Sjefen min må bestemme"],
        "reject_inflected": ["Jeg er enig i avslaget", "Ja, avvis"],
        "retraction": ["Ja.\n\nSendt fra min iPhone\n\nGlem det", "Godkjent. Bare tull."],
        "sarcasm": ["Ja ja"],
        "question": ["Hvorfor?", "Ja, hvilken kunde?"],
        "hedge": ["Kanskje", "Jeg tror det", "Ikke noe problem"],
    },
    "ru": {
        "negation": [
            "Не одобряю",
            "Да, но не сегодня",
            "Не согласен",
            "Ок, не нужно",
            "Нет, спасибо",
            "Да, я не одобряю",
        ],
        "acknowledgement": ["Ок, принято.", "Да, получил", "Понятно"],
        "deferral": ["Посмотрю завтра", "Ок, обсужу с командой", "Подождите", "Да, позже"],
        "condition": [
            "Да, если клиент заплатит",
            "Одобряю, но только половину",
            "Одобрено на 80 евро",
        ],
        "delegation": ["Спросите Ивана", "Решать должен мой начальник"],
        "reject_inflected": ["Согласен с отклонением", "Да, отклоните"],
        "retraction": ["Да.\n\nОтправлено с iPhone\n\nПередумал", "Одобрено. Неважно."],
        "sarcasm": ["Ага, конечно", "Да-да"],
        "question": ["Почему?", "Да, для какого клиента?"],
        "hedge": ["Может быть", "Думаю, да", "Без проблем"],
    },
    "uk": {
        "negation": [
            "Не схвалюю",
            "Так, але не сьогодні",
            "Не згоден",
            "Ок, не треба",
            "Ні, дякую",
            "Так, я не схвалюю",
        ],
        "acknowledgement": ["Ок, прийнято.", "Так, отримав", "Зрозуміло"],
        "deferral": ["Подивлюся завтра", "Ок, обговорю з командою", "Зачекайте", "Так, пізніше"],
        "condition": [
            "Так, якщо клієнт заплатить",
            "Схвалюю, але тільки половину",
            "Схвалено на 80 євро",
        ],
        "delegation": ["Спитайте Олега", "Вирішувати має мій керівник"],
        "reject_inflected": ["Згоден з відхиленням", "Так, відхиліть"],
        "retraction": ["Так.\n\nНадіслано з iPhone\n\nПередумав", "Схвалено. Неважливо."],
        "sarcasm": ["Ага, звісно", "Так-так"],
        "question": ["Чому?", "Так, для якого клієнта?"],
        "hedge": ["Можливо", "Думаю, так", "Без проблем"],
    },
    "zh": {
        "negation": [
            "是的，我不同意",
            "好，不用了",
            "不批准",
            "可以，但不是今天",
            "好的，不要",
            "同意？不",
            "我不同意",
            "好的，别做",
        ],
        "acknowledgement": ["好的，收到", "收到", "知道了", "好的，了解"],
        "deferral": ["好的，我明天看一下", "好，我跟团队讨论一下", "等一下", "可以，稍后再说"],
        "condition": ["可以，如果客户付款", "同意，但只退一半", "批准80欧元"],
        "delegation": ["问一下老板", "让经理决定"],
        "reject_inflected": ["同意拒绝", "好的，驳回"],
        "retraction": ["好的。\n\n发自我的iPhone\n\n算了", "批准。开玩笑的"],
        "sarcasm": ["好的呵呵"],
        "question": ["为什么？", "同意吗", "好的，哪个客户？"],
        "hedge": ["也许", "可能吧", "我觉得可以"],
    },
    "ja": {
        "negation": [
            "はい、承認しません",
            "承認できません",
            "はい、でも今日はだめです",
            "いいえ",
            "はい、必要ないです",
            "承認？いいえ",
        ],
        "acknowledgement": ["はい、承知しました", "了解です", "はい、確認しました", "わかりました"],
        "deferral": [
            "はい、明日確認します",
            "チームと相談します",
            "ちょっと待ってください",
            "後で見ます",
        ],
        "condition": ["はい、お客様が支払えば", "承認します、ただし半分だけ", "80ユーロなら承認"],
        "delegation": ["上司に聞いてください", "部長が判断します"],
        "reject_inflected": ["却下に同意します", "はい、却下してください"],
        "retraction": ["はい。\n\niPhoneから送信\n\nやっぱりやめます", "承認します。冗談です"],
        "sarcasm": ["はいはい笑"],
        "question": ["なぜですか？", "はい、どのお客様ですか"],
        "hedge": ["たぶん", "いいと思います"],
    },
}

# Shapes that only exist as transformations of text ("typed on another keyboard").
APOSTROPHES = ["´", "`", "ʼ", "＇", "‘", "′", "’"]
NEGATED_WITH_APOSTROPHE = [
    "I don{a}t approve",
    "Yes, I can{a}t approve this",
    "Ok, don{a}t do it",
    "Approved? I wouldn{a}t",
    "Sure, don{a}t bother",
    "We shouldn{a}t approve this",
    "Approve? Don{a}t.",
    "I won{a}t approve",
    "Je n{a}approuve pas",
    "Oui, je n{a}suis pas d{a}accord",
    "Yes, it isn{a}t ok",
    "OK, that doesn{a}t work",
]
FULL_WIDTH = [
    "Ｎｏｔ ａｐｐｒｏｖｅｄ",
    "Ｙｅｓ，ｂｕｔ ｎｏｔ ｔｏｄａｙ",
    "Ｉ ｄｏｎ＇ｔ ａｐｐｒｏｖｅ",
    "ＯＫ，ｎｏｔｅｄ",
    "Ａｐｐｒｏｖｅ？",
    "Ｙｅｓ ｐｅｎｄｉｎｇ ｒｅｖｉｅｗ",
]
ZERO_WIDTH = [
    "Yes, I do n\u200bot approve",
    "Approved. N\u200bot really.",
    "Ok, d\u200bon't",
    "Yes\u200b, but\u200b only half",
    "Approve\u2060d? No",
    "Sure\u200d, wait",
    "\u202eApproved\u202c, no",
    "Yes\ufeff, I do\u00adn't agree",
    "ap\u200bprove? no",
    "Approved \u200e(not)",
]
OTHER_LANGUAGE = [
    "Ok, ei käy",
    "Evet ama yarın",
    "Ok, değil",
    "Igen, de holnap",
    "Ok, nesouhlasím",
    "Ok, nu acum",
    "Ok, tidak",
    "Ok, không",
    "Ok, nemoj",
    "Ok, hindi pa",
    "네, 승인합니다",
    "نعم موافق",
    "Ναι, εγκρίνω",
    "ใช่ อนุมัติ",
    "Ok ми не",
    "Approved, αλλά όχι σήμερα",
    "Ok, ne hlasím",
    "Ok, hayır",
    "Ok mutta huomenna",
    "Ok, jos asiakas maksaa",
]
# Greek/Cyrillic letters mixed into Latin words: a confusable reply is never a plain yes.
MIXED_SCRIPT = ["аpprove", "Yеs", "Approvеd", "оk", "lgtм"]

# --- real approvals --------------------------------------------------------------------------

APPROVALS: dict[str, list[str]] = {
    "en": [
        "Approve",
        "Approved",
        "Yes",
        "yes",
        "Yes.",
        "YES",
        "Yes please",
        "Yes, approved.",
        "Approved, thanks!",
        "Ok",
        "OK.",
        "Okay, go ahead.",
        "Go ahead",
        "Go ahead, thanks.",
        "LGTM",
        "lgtm 👍",
        "Looks good to me.",
        "Sounds good.",
        "Sure, go ahead.",
        "Yes, go ahead.",
        "Approved. Thanks for checking.",
        "👍",
        "Thanks! Approved.",
        "Hi,\n\nApproved.\n\nThanks",
        "Yep, approved",
        "Confirmed.",
        "Please proceed.",
        "Approve. Notify finance.",
        "Yes - approve the 120 EUR refund.",
        "Approved, ACME GmbH is fine.",
        "Agreed.",
        "I approve.",
        "Yes, do it.",
        "Ship it.",
        "Approved!\n\nBest,\nAnna",
        "Yes, approved. Sorry for the delay.",
        "Approved, as discussed.",
        "✅",
        "Fine by me.",
        "Good morning,\n\nyes, approved.",
        "Approve order A-7731.",
        "Yes please, go ahead.",
        "Hi Agent,\nyes go ahead\nThanks",
        "Ok, approved 👍",
        "Absolutely, go ahead.",
    ],
    "de": [
        "Ja",
        "Genehmigt",
        "Genehmigt.",
        "Ja, genehmigt.",
        "Freigegeben",
        "Ja bitte",
        "Einverstanden.",
        "Passt.",
        "In Ordnung.",
        "Ok, mach es.",
        "Genehmigt, danke!",
        "Hallo,\n\nja, freigegeben.\n\nViele Grüße\nJan",
        "Ja, gerne.",
        "Alles klar, genehmigt.",
        "Guten Morgen,\nfreigegeben.",
    ],
    "fr": [
        "Oui",
        "Approuvé",
        "Oui, approuvé.",
        "D'accord",
        "D´accord, allez-y.",
        "Validé.",
        "C'est bon.",
        "Oui merci",
        "Ça marche.",
        "Bonjour,\n\nok pour moi, approuvé.\n\nCordialement",
        "Allez-y.",
        "Oui, je valide.",
    ],
    "es": [
        "Sí",
        "Aprobado",
        "Sí, aprobado.",
        "De acuerdo.",
        "Adelante.",
        "Vale.",
        "Ok, adelante.",
        "Sí, gracias.",
        "Perfecto, aprobado.",
        "Hola,\n\naprobado.\n\nSaludos",
        "Confirmado.",
        "Dale.",
    ],
    "pt": [
        "Sim",
        "Aprovado",
        "Sim, aprovado.",
        "Pode seguir.",
        "De acordo.",
        "Ok, pode fazer.",
        "Aprovo.",
        "Confirmado.",
        "Olá,\n\naprovado.\n\nAbraços",
        "Sim, obrigado.",
        "Tá bom.",
    ],
    "it": [
        "Sì",
        "Approvato",
        "Sì, approvato.",
        "Va bene.",
        "Procedi pure.",
        "D'accordo.",
        "Ok, vai.",
        "Confermo.",
        "Ciao,\n\napprovato.\n\nSaluti",
        "Sì grazie.",
        "Perfetto, approvato.",
    ],
    "nl": [
        "Ja",
        "Akkoord",
        "Goedgekeurd",
        "Ja, akkoord.",
        "Prima",
        "Is goed.",
        "Ga je gang.",
        "Doe maar.",
        "Hoi,\n\nakkoord.\n\nGroet,\nJan",
        "Ja graag.",
        "Oké, goedgekeurd.",
    ],
    "pl": [
        "Zatwierdzam",
        "Tak, zatwierdzam.",
        "Zgoda.",
        "Ok, zatwierdzam.",
        "Akceptuję.",
        "Tak, zgoda.",
        "Dobrze.",
        "W porządku.",
        "Cześć,\n\nzatwierdzam.\n\nPozdrawiam",
        "Jasne.",
    ],
    "sv": [
        "Ja",
        "Godkänd",
        "Godkänt",
        "Ja, godkänt.",
        "Kör.",
        "Kör på.",
        "Det går bra.",
        "Ja tack.",
        "Hej,\n\ngodkänt.\n\nMvh\nErik",
        "Absolut.",
        "Okej, godkänt.",
    ],
    "da": [
        "Ja",
        "Godkendt",
        "Ja, godkendt.",
        "Det er fint.",
        "Kør.",
        "I orden.",
        "Ja tak.",
        "Hej,\n\ngodkendt.\n\nMed venlig hilsen\nLars",
        "Fint.",
        "Ok, godkendt.",
    ],
    "no": [
        "Ja",
        "Godkjent",
        "Ja, godkjent.",
        "Det er greit.",
        "Kjør på.",
        "I orden.",
        "Ja takk.",
        "Hei,\n\ngodkjent.\n\nMvh\nOla",
        "Greit.",
        "Ok, godkjent.",
    ],
    "ru": [
        "Да",
        "Одобряю",
        "Да, одобряю.",
        "Согласен.",
        "Хорошо.",
        "Одобрено.",
        "Ок, действуйте.",
        "Здравствуйте,\n\nодобряю.\n\nС уважением,\nИван",
        "Да, спасибо.",
        "Подтверждаю.",
    ],
    "uk": [
        "Так",
        "Схвалюю",
        "Так, схвалюю.",
        "Згоден.",
        "Добре.",
        "Схвалено.",
        "Гаразд.",
        "Вітаю,\n\nсхвалюю.\n\nЗ повагою,\nОлег",
        "Так, дякую.",
        "Підтверджую.",
    ],
    "zh": [
        "是的",
        "同意",
        "批准",
        "好的",
        "可以",
        "好的，谢谢",
        "同意。",
        "批准，谢谢！",
        "您好，\n\n同意。\n\n谢谢",
        "好",
    ],
    "ja": [
        "はい",
        "承認します",
        "承認します。",
        "はい、お願いします",
        "はい、承認します。",
        "進めてください。",
        "お疲れ様です。\n\n承認します。\n\nよろしくお願いします。",
        "承認",
        "OKです",
        "はい、進めてください",
    ],
}


def _case(text: str, lang: str, shape: str, **extra: object) -> dict[str, object]:
    return {"text": text, "lang": lang, "shape": shape, "arguments": ARGUMENTS, **extra}


def must_not_approve() -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []
    for lang, shapes in NOT_APPROVALS.items():
        for shape, texts in shapes.items():
            for i, text in enumerate(texts):
                cases.append(_case(text, lang, shape))
                # the same words in the shapes mail arrives in
                wrapper = (GMAIL_QUOTE, OUTLOOK_QUOTE, APPLE_QUOTE)[i % 3]
                cases.append(
                    _case(text + wrapper, lang, shape, client=("gmail", "outlook", "apple")[i % 3])
                )
    for template in NEGATED_WITH_APOSTROPHE:
        for a in APOSTROPHES:
            lang = "fr" if "approuve" in template or "accord" in template else "en"
            cases.append(_case(template.format(a=a), lang, "apostrophe"))
    for text in FULL_WIDTH:
        cases.append(_case(text, "en", "full_width"))
        cases.append(_case(text + PHONE, "en", "full_width"))
    for text in ZERO_WIDTH:
        cases.append(_case(text, "en", "zero_width"))
        cases.append(_case(text + GMAIL_QUOTE, "en", "zero_width", client="gmail"))
    for text in OTHER_LANGUAGE:
        cases.append(_case(text, "xx", "unsupported_language"))
    for text in MIXED_SCRIPT:
        cases.append(_case(text, "en", "mixed_script"))
    # retractions after a signature or a phone line, in every language
    for lang, texts in APPROVALS.items():
        first = texts[1]
        no = NOT_APPROVALS[lang]["negation"][0]
        cases.append(_case(f"{first}{PHONE}\n\n{no}", lang, "retraction_after_signature"))
        cases.append(_case(f"{first}{SIGNATURE}\n\nPS: {no}", lang, "retraction_after_signature"))
    return cases


def approvals() -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []
    for lang, texts in APPROVALS.items():
        for i, text in enumerate(texts):
            cases.append(_case(text, lang, "plain"))
            wrapper = (GMAIL_QUOTE, OUTLOOK_QUOTE, APPLE_QUOTE)[i % 3]
            client = ("gmail", "outlook", "apple")[i % 3]
            cases.append(_case(text + wrapper, lang, "top_posted", client=client))
            if i % 2 == 0:
                cases.append(_case(text + PHONE + wrapper, lang, "phone", client=client))
            else:
                cases.append(_case(text + SIGNATURE + wrapper, lang, "signature", client=client))
    return cases


def main() -> None:
    bad, good = heldout()
    for name, rows in (
        ("must_not_approve", must_not_approve()),
        ("approvals", approvals()),
        ("heldout_must_not_approve", bad),
        ("heldout_approvals", good),
    ):
        with (HERE / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(name, len(rows))


# --- held out -------------------------------------------------------------------------------
# Written after the grammar was tuned on the sets above, and run once before any change, to
# measure how the grammar does on phrasing it was not tuned on (see docs/replies.md).

HELDOUT_NOT_APPROVALS: dict[str, list[str]] = {
    "en": [
        "Yes but hang on until Friday",
        "ok ok whatever you say",
        "approved... NOT",
        "Go ahead? I'd rather you didn't",
        "Hmm yes, though ask Priya",
        "Sure, once Q3 closes",
        "👍 but only for the first item",
        "Approved - pls wait for the PO",
        "Y but not yet",
        "ok, leave it with me",
        "Yes, I've forwarded this to legal",
        "Sounds good, let's talk tomorrow",
        "Yep, received, will action next week",
        "approve (after the audit)",
        "Approved, minus shipping",
        "yes, refund 60 not 120",
        "Ok — on hold for now",
        "Sure. Not.",
        "Yes!!! (kidding)",
        "LGTM once CI passes",
        "Yes, assuming the customer agrees",
        "Fine, do half",
        "ok go, oh wait, no",
        "Approved pending Maria's OK",
        "Reject. Sorry, I mean approve? No, reject",
        "Sure, why would anything go wrong",
        "Totally approved 🙃",
        "Yes in principle",
        "It's a no from me",
        "That's a hard no",
        "I'm not approving this",
        "We can't do this",
        "Nah",
        "Dont",
        "denied lol",
        "Yes, but check the address first",
    ],
    "de": [
        "Ja, aber erst nächste Woche",
        "Ok, ich kläre das noch",
        "Genehmigt, sofern die Rechnung stimmt",
        "Ja nee",
        "Passt, aber bitte nur 50",
        "Ja, muss aber noch mit Klaus reden",
        "Gerne, später",
        "Einverstanden? Eher nicht",
    ],
    "fr": [
        "Oui mais pas avant lundi",
        "Ok, je vérifie d'abord",
        "D'accord si c'est moins de 100",
        "Oui, enfin non",
        "Validé sous condition",
        "Ça marche, mais demandez à Julie",
    ],
    "es": [
        "Sí, pero después del cierre",
        "Vale, lo reviso",
        "Aprobado si es menos de 100",
        "Sí... no",
        "Dale, aunque pregunta a Ana",
        "Ok, más tarde lo veo",
    ],
    "pt": [
        "Sim, mas só amanhã",
        "Ok, vou verificar",
        "Aprovado se for menos de 100",
        "Pode, mas pergunta ao Rui",
    ],
    "it": [
        "Sì, ma domani",
        "Ok, controllo e ti dico",
        "Approvato se costa meno di 100",
        "Va bene, però chiedi a Luca",
    ],
    "nl": [
        "Ja, maar pas morgen",
        "Ok, ik check het even",
        "Akkoord als het onder 100 blijft",
        "Prima, vraag wel even aan Sanne",
    ],
    "pl": [
        "Tak, ale dopiero jutro",
        "Ok, sprawdzę to",
        "Zatwierdzam, jeśli mniej niż 100",
        "Dobra, zapytaj jeszcze Kasię",
    ],
    "sv": [
        "Ja, men först imorgon",
        "Ok, jag kollar",
        "Godkänt om det är under 100",
        "Kör, men fråga Anna först",
    ],
    "da": [
        "Ja, men først i morgen",
        "Ok, jeg tjekker det",
        "Godkendt hvis under 100",
        "Fint, men spørg Mette",
    ],
    "no": [
        "Ja, men først i morgen",
        "Ok, jeg sjekker",
        "Godkjent hvis under 100",
        "Greit, men spør Kari",
    ],
    "ru": [
        "Да, но только завтра",
        "Ок, проверю",
        "Одобряю, если меньше 100",
        "Хорошо, но спроси Олю",
    ],
    "uk": [
        "Так, але лише завтра",
        "Ок, перевірю",
        "Схвалюю, якщо менше 100",
        "Добре, але спитай Олю",
    ],
    "zh": ["可以，不过明天再做", "好的，我先确认一下", "同意，如果少于100", "好，问一下小王"],
    "ja": [
        "はい、でも明日にしてください",
        "確認してから返事します",
        "100以下なら承認します",
        "はい、田中さんにも聞いてください",
    ],
}
HELDOUT_APPROVALS: dict[str, list[str]] = {
    "en": [
        "yes go ahead",
        "Approved 👍",
        "ok!",
        "Yes, thank you.",
        "Hi there,\n\nApproved.\n\nRegards,\nSam",
        "Looks good, approved.",
        "approve",
        "Go for it.",
        "Yes. Thanks for the heads-up on this one.",
        "Yes please proceed",
        "Okay.",
        "Sure.",
        "Approved, thank you!",
        "lgtm, thanks",
        "Yes, approve the refund.",
        "Approved\n\nSent from Outlook for Android",
        "Yep.",
        "Confirmed, go ahead.",
        "Thumbs up 👍",
        "Yes\n\nCheers,\nTom",
    ],
    "de": ["Ja, passt.", "Freigegeben, danke.", "Ok, genehmigt.", "Ja, gerne, danke!", "Jawohl."],
    "fr": ["Oui, c'est bon.", "Ok, validé.", "Approuvé, merci.", "Oui d'accord."],
    "es": ["Sí, adelante.", "Ok, aprobado.", "De acuerdo, gracias.", "Aprobado, gracias."],
    "pt": ["Sim, pode seguir.", "Ok, aprovado.", "Aprovado, obrigado."],
    "it": ["Sì, procedi.", "Ok, approvato.", "Approvato, grazie."],
    "nl": ["Ja, akkoord.", "Prima, bedankt.", "Goedgekeurd, dank je."],
    "pl": ["Tak, zgoda.", "Ok, zatwierdzam.", "Zatwierdzam, dzięki."],
    "sv": ["Ja, kör.", "Ok, godkänt.", "Godkänt, tack."],
    "da": ["Ja, kør.", "Ok, godkendt.", "Godkendt, tak."],
    "no": ["Ja, kjør.", "Ok, godkjent.", "Godkjent, takk."],
    "ru": ["Да, действуйте.", "Ок, одобряю.", "Одобрено, спасибо."],
    "uk": ["Так, дійте.", "Ок, схвалюю.", "Схвалено, дякую."],
    "zh": ["好的，批准", "同意，谢谢", "可以。"],
    "ja": ["はい、承認します", "承認します。ありがとうございます。", "はい、お願いします。"],
}


def heldout() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    bad = [
        _case(t, lang, "heldout") for lang, texts in HELDOUT_NOT_APPROVALS.items() for t in texts
    ]
    good = [_case(t, lang, "heldout") for lang, texts in HELDOUT_APPROVALS.items() for t in texts]
    good += [
        _case(c["text"] + GMAIL_QUOTE, c["lang"], "heldout", client="gmail") for c in list(good)
    ]
    return bad, good


if __name__ == "__main__":
    main()
