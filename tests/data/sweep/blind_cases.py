"""Blind sweep cases for decide(): written without looking at the tuned test data.

Each language has a block of replies that must NOT approve (one a line) and a block of clear
approvals. ``wrapped`` puts a reply into the shapes real mail clients send.
"""

from __future__ import annotations

ARGUMENTS = {"amount": 120, "currency": "EUR", "order": "A-7731", "customer": "ACME GmbH"}

NOT_APPROVE: dict[str, str] = {}
APPROVE: dict[str, str] = {}

NOT_APPROVE["en"] = """
no
No.
nope
nah
not yet
wait
wait!
hold off
hold off for now
hold on
only if the customer pays upfront
yes but only after the audit
yes, but only after finance signs off
approve? no way
I would approve if it were 50 EUR
I'd approve if they had paid the last invoice
don't approve
dont approve
do not approve this
ok no
yes—actually no
yes - actually no
Yes. Actually, no.
approved by whom?
approve what?
what is this?
who is ACME?
is this the one from last week?
yeah right
sure, and I'm the pope
rejetc
rejcet
rehect
I can't approve this
I cant approve this
I cannot approve this
ask Bob
ask bob he knows
check with Sarah first
not approved
approval denied
approve the other one, not this
approve A-7730, not this one
I can't not reject this
there is no way I'm not rejecting this
I wouldn't say no, but not now
approve but only 50 EUR
approve 50 EUR max
ok for 100 EUR, not 120
approve but half
👎
🤔
✋
later
tomorrow
after the audit
next week
Monday
let me think
let me check
I'll get back to you
give me a day
not now
not today
maybe
probably
possibly yes
I guess?
yes?
approve?
Approve??
hmm
idk
not sure
no idea
stop
cancel this
STOP DO NOT PROCESS
please don't
pls dont
nooo
no thanks
sorry, no
sorry can't
I'd rather not
better not
no. APPROVE only if amount < 100
Approve if the amount is under 100
approve once payment clears
approved pending legal review
approve after Bob checks
approve when the stock arrives
yes, unless it's over budget
yes unless ACME is in arrears
lol no
haha no
approve lol jk
jk no
I was going to say yes but no
I'd say yes but I'm not the right person
not my call
wrong person
I'm not authorized to approve this
forward to finance
is this phishing?
what amount?
why 120?
why?
can we do 100?
could you do 80?
how about 100 EUR
make it 100
approve 100
approve 120 USD
approve for order A-7732
APPROVE - NOT!
Not APPROVE
no approve
not approve
never
no way
absolutely not
hell no
definitely not
of course not
negative
I'll pass
on hold
put it on hold
pause it
postpone
let's wait
wait for Bob
wait until Monday
once the audit is done
revisit in Q3
Not until the audit is done
yes in principle, but not now
agreed in principle
looks good but don't approve yet
LGTM but hold off
Looks good, but wait for legal
👍 but wait
👍👎
❌
🚫
🛑
🤷
yes no
yes/no
approve or reject?
APPROVE or REJECT
which one?
Approve... or not. I'll decide tomorrow.
I'm not approving this
won't approve
I won't approve
I do not approve
I don't approve
I disapprove
declined
veto
no go
no-go
don't go ahead
do not proceed
abort
i already said no
The answer is no
my answer is no
Approve - NOT. amount too high.
approve, oh wait, no
Yes. No wait.
yes pls dont
Aprove? Never.
Approve in 2 weeks
approve next month
approve after 1 June
approve on 5 June
yes but I need the invoice first
yes, but send me the contract first
first send me the invoice
Approve tmrw
Not approve yet, need info
need more info
more details please
can you send the invoice?
please call me
call me
let's discuss
let's talk tomorrow
we'll see
not so fast
rather not
approve? hmm
"""

NOT_APPROVE["de"] = """
nein
Nein.
nee
noch nicht
warte
abwarten
bitte warten
nicht genehmigt
nicht freigeben
bitte nicht freigeben
nicht freigegeben
ablenen
ich kann das nicht genehmigen
ich kann das nicht freigeben
ich genehmige das nicht
genehmige ich nicht
das genehmige ich nicht
das gebe ich nicht frei
freigeben? auf keinen Fall
auf keinen Fall
keinesfalls
niemals
nur wenn der Kunde vorab zahlt
ja, aber erst nach dem Audit
ja aber erst morgen
morgen
später
spaeter
nächste Woche
naechste woche
nach dem Audit
frag Bob
frag mal Bob
bitte mit Sarah abklären
genehmigen? wofür?
was ist das?
wer ist ACME?
ja klar, und ich bin der Papst
ok nein
ja - doch nicht
ja, doch lieber nicht
Ja. Nein, doch nicht.
genehmigt, aber nur 50 EUR
nur 50 EUR genehmigt
max. 100 EUR
ich würde genehmigen, wenn es 50 EUR wären
würde ich genehmigen, wenn der Vertrag da ist
genehmigt, sobald die Zahlung da ist
erst nach Rücksprache
vielleicht
weiß nicht
keine Ahnung
hmm, eher nicht
lieber nicht
stopp
abbrechen
nicht jetzt
nicht heute
bin mir nicht sicher
Moment mal
einen Moment bitte
zurückstellen
ich melde mich
das andere genehmigen, nicht dieses
Genehmigt?? Bestimmt nicht.
Genehmigt von wem?
Nicht ablehnen, nur warten
kein OK
keine Freigabe
Freigabe verweigert
Ich stimme nicht zu
stimme nicht zu
ja, wenn Bob zustimmt
Freigabe erst nach Prüfung
genehmigt unter Vorbehalt
ja, vorbehaltlich der Prüfung
ich bin dagegen
das passt so nicht
passt nicht
nicht einverstanden
bin nicht einverstanden
"""

NOT_APPROVE["fr"] = """
non
Non.
pas encore
attends
attendez svp
un instant
pas maintenant
non merci
je refuse
pas approuvé
non approuvé
ne pas approuver
n'approuvez pas
napprouvez pas
je ne peux pas approuver
je peux pas approuver
j'approuve pas
j approuve pas
approuvé? certainement pas
certainement pas
surtout pas
jamais
pas question
hors de question
seulement si le client paie d'avance
oui mais seulement après l'audit
oui mais apres l'audit
oui, mais pas avant lundi
demain
plus tard
la semaine prochaine
après l'audit
demandez à Bob
demande a Bob
voir avec Sarah
approuver quoi ?
c'est quoi ?
qui est ACME ?
ok non
oui... enfin non
en fait non
j'approuverais si c'était 50 EUR
approuvé mais seulement 50 EUR
d'accord pour 50 EUR seulement
peut-être
je sais pas
aucune idée
pas sûr
bof
ouais c'est ça
stop
annulez
en attente
attendons
approuvez l'autre, pas celle-ci
je n'approuve pas
pas validé
ne validez pas
pas d'accord
je ne suis pas d'accord
oui si Bob est d'accord
sous réserve de validation
"""

NOT_APPROVE["es"] = """
no
No.
todavía no
todavia no
aún no
espera
espere
un momento
ahora no
no gracias
rechasado
no aprobado
no aprobar
no lo apruebes
no apruebes
no lo apruebo
no puedo aprobar esto
¿aprobar? ni hablar
ni hablar
ni loco
de ninguna manera
jamás
nunca
solo si el cliente paga por adelantado
sí pero solo después de la auditoría
si pero despues de la auditoria
mañana
manana
luego
más tarde
la próxima semana
después de la auditoría
pregúntale a Bob
consulta con Sara
¿aprobar qué?
¿qué es esto?
¿quién es ACME?
ok no
sí... bueno, no
sí, mejor no
mejor no
lo aprobaría si fueran 50 EUR
aprobado pero solo 50 EUR
quizás
tal vez
no sé
ni idea
no estoy seguro
sí, claro... y yo soy el papa
cancela
en espera
aprueba el otro, no este
no autorizo
no autorizado
no estoy de acuerdo
sí, si Bob está de acuerdo
"""

NOT_APPROVE["it"] = """
no
No.
non ancora
aspetta
un attimo
non adesso
adesso no
no grazie
non approvato
non approvare
non approvo
non posso approvare
approvare? neanche per sogno
neanche per sogno
per niente
assolutamente no
mai
solo se il cliente paga in anticipo
sì ma solo dopo l'audit
si ma dopo la verifica
domani
dopo
più tardi
piu tardi
la settimana prossima
dopo l'audit
chiedi a Bob
approvare cosa?
cos'è?
chi è ACME?
ok no
sì... anzi no
anzi no
approverei se fossero 50 EUR
approvato ma solo 50 EUR
forse
non so
boh
non sono sicuro
sì, come no
annulla
in attesa
approva l'altro, non questo
non autorizzato
non autorizzo
non sono d'accordo
non va bene
"""

NOT_APPROVE["pt"] = """
não
nao
Não.
ainda não
ainda nao
espera
aguarde
um momento
agora não
não obrigado
não aprovado
nao aprovado
não aprovar
não aprove
não aprovo
não posso aprovar
aprovar? nem pensar
nem pensar
de jeito nenhum
jamais
nunca
só se o cliente pagar adiantado
sim mas só depois da auditoria
sim, mas depois da auditoria
amanhã
amanha
depois
mais tarde
semana que vem
depois da auditoria
pergunta pro Bob
aprovar o quê?
o que é isso?
quem é ACME?
ok não
sim... aliás, não
eu aprovaria se fossem 50 EUR
aprovado mas só 50 EUR
talvez
não sei
sei lá
não tenho certeza
cancela
em espera
aprova o outro, não este
não autorizo
não estou de acordo
"""

NOT_APPROVE["nl"] = """
nee
Nee.
neen
nog niet
wacht
wacht even
even wachten
momentje
niet nu
nee dank je
niet goedgekeurd
niet goedkeuren
keur het niet goed
ik keur het niet goed
dat keur ik niet goed
ik kan dit niet goedkeuren
goedkeuren? echt niet
echt niet
voor geen goud
nooit
alleen als de klant vooraf betaalt
ja maar pas na de audit
morgen
later
volgende week
na de audit
vraag het aan Bob
goedkeuren wat?
wat is dit?
wie is ACME?
ok nee
ja... nee toch niet
toch niet
ik zou het goedkeuren als het 50 EUR was
goedgekeurd maar alleen 50 EUR
misschien
weet niet
geen idee
niet zeker
annuleren
in de wacht
keur de andere goed, niet deze
niet akkoord
ik ga niet akkoord
geen akkoord
akkoord? nee
"""

NOT_APPROVE["pl"] = """
nie
Nie.
jeszcze nie
czekaj
poczekaj
chwila
nie teraz
nie dziękuję
nie zatwierdzam
nie zatwierdzaj
niezatwierdzone
nie akceptuję
nie akceptuje
nie moge tego zatwierdzic
zatwierdzić? w życiu
w życiu
nigdy
mowy nie ma
absolutnie nie
tylko jeśli klient zapłaci z góry
tak, ale dopiero po audycie
tak ale po audycie
jutro
później
pozniej
w przyszłym tygodniu
po audycie
zapytaj Boba
zatwierdzić co?
co to jest?
ok nie
tak... a jednak nie
jednak nie
zatwierdziłbym, gdyby to było 50 EUR
zatwierdzone ale tylko 50 EUR
może
moze
nie wiem
nie jestem pewien
anuluj
wstrzymaj
zatwierdź tamto, nie to
brak zgody
nie zgadzam się
nie zgadzam sie
"""

NOT_APPROVE["sv"] = """
nej
Nej.
inte än
inte ännu
vänta
vanta
vänta lite
inte nu
nej tack
inte godkänd
inte godkänt
godkänn inte
jag godkänner inte
jag godkänner det inte
det godkänner jag inte
jag kan inte godkänna detta
godkänna? aldrig
aldrig
absolut inte
bara om kunden betalar i förväg
ja men först efter revisionen
imorgon
i morgon
senare
nästa vecka
efter revisionen
fråga Bob
godkänna vad?
vad är det här?
vem är ACME?
ok nej
nej förresten
jag skulle godkänna om det var 50 EUR
godkänt men bara 50 EUR
kanske
vet inte
ingen aning
avbryt
pausa
godkänn den andra, inte den här
jag håller inte med
"""

NOT_APPROVE["tr"] = """
hayır
hayir
Hayır.
yok
henüz değil
henuz degil
bekle
bekleyin
bir dakika
şimdi değil
simdi degil
hayır teşekkürler
redettim
onaylanmadı
onaylanmadi
onaylama
onaylamayın
onaylamıyorum
onaylamiyorum
onaylayamam
bunu onaylayamam
onay yok
onay vermiyorum
onaylamam
asla
kesinlikle hayır
sadece müşteri peşin öderse
evet ama denetimden sonra
evet ama sadece denetimden sonra
yarın
yarin
daha sonra
gelecek hafta
denetimden sonra
Bob'a sor
neyi onaylayayım?
bu ne?
ACME kim?
tamam hayır
vazgeçtim
50 EUR olsaydı onaylardım
onaylandı ama sadece 50 EUR
belki
bilmiyorum
emin değilim
dur
iptal et
beklemede
diğerini onayla, bunu değil
kabul etmiyorum
kabul edilmedi
"""

NOT_APPROVE["ja"] = """
いいえ
いや
だめ
ダメです
まだです
まだ
待って
待ってください
ちょっと待って
今はだめ
承認しません
承認しないでください
承認できません
承認不可
承認しない
承認？とんでもない
とんでもない
絶対だめ
顧客が前払いする場合のみ
はい、でも監査の後で
監査の後なら承認します
明日
あとで
来週
監査後
ボブに聞いて
何を承認？
これは何？
ACMEって誰？
OK、やっぱりダメ
はい…やっぱりいいえ
やっぱりやめます
50ユーロなら承認します
承認、ただし50ユーロまで
たぶん
わからない
検討します
考えさせてください
ストップ
キャンセル
保留
保留で
もう一つの方を承認、これではない
承認いたしかねます
お断りします
結構です
"""

NOT_APPROVE["zh"] = """
不
不行
不可以
不同意
不批准
不要批准
别批准
別批准
还没
還沒
等等
等一下
稍等
现在不行
我不能批准
我无法批准
批准？没门
没门
绝对不行
只有客户预付才行
可以，但要等审计之后
好，但审计后再说
明天
以后
稍后
下周
审计之后
问问Bob
批准什么？
这是什么？
ACME是谁？
好吧，不行
是…算了，不行
算了
如果是50欧元我就批准
批准，但只批50欧元
也许
不知道
不确定
我考虑一下
停
取消
暂停
先搁置
批准另一个，不是这个
不批
不准
不予批准
不用了
"""

NOT_APPROVE["ru"] = """
нет
Нет.
неа
пока нет
еще нет
подожди
подождите
минутку
не сейчас
нет спасибо
не одобрено
не одобряю
не одобряйте
не утверждаю
не могу одобрить
одобрить? ни за что
ни за что
никогда
ни в коем случае
только если клиент заплатит вперёд
да, но только после аудита
да но после аудита
завтра
позже
потом
на следующей неделе
после аудита
спроси Боба
одобрить что?
что это?
ок нет
да... хотя нет
хотя нет
я бы одобрил, если бы было 50 EUR
одобрено, но только 50 EUR
может быть
возможно
не знаю
не уверен
стоп
на паузе
одобри другой, не этот
ага, щас
не согласен
не согласовано
"""

NOT_APPROVE["ar"] = """
لا
كلا
ليس بعد
انتظر
لحظة
ليس الآن
لا شكرا
غير موافق
لا أوافق
لا اوافق
لا توافق
غير معتمد
لا أستطيع الموافقة
موافقة؟ مستحيل
مستحيل
أبدا
فقط إذا دفع العميل مقدما
نعم لكن بعد التدقيق
غدا
لاحقا
الأسبوع القادم
بعد التدقيق
اسأل بوب
أوافق على ماذا؟
ما هذا؟
حسنا لا
ربما
لا أعرف
توقف
إلغاء
معلق
وافق على الآخر وليس هذا
أوافق لو كان المبلغ 50 يورو
موافق لكن 50 يورو فقط
"""

NOT_APPROVE["hi"] = """
नहीं
नही
अभी नहीं
रुको
रुकिए
एक मिनट
नहीं धन्यवाद
मंज़ूर नहीं
मंजूर नहीं
स्वीकृत नहीं
मंज़ूरी मत दो
मैं इसे मंज़ूर नहीं कर सकता
कभी नहीं
बिल्कुल नहीं
सिर्फ़ अगर ग्राहक पहले भुगतान करे
हाँ लेकिन ऑडिट के बाद
कल
बाद में
अगले हफ्ते
क्या मंज़ूर करूँ?
यह क्या है?
ठीक है, नहीं
रहने दो
शायद
पता नहीं
रोको
nahi
abhi nahi
approve mat karo
approve nahi
approve nahi karunga
ruko
baad mein
pata nahi
"""

NOT_APPROVE["ko"] = """
아니요
아니오
아니
안돼
안 돼요
아직이요
아직 안 돼요
잠깐만요
기다려 주세요
지금은 안 돼요
승인 안 함
승인하지 마세요
승인 불가
승인할 수 없습니다
승인 못 해요
승인? 절대 안 돼
절대 안 돼
고객이 선결제할 때만
네, 하지만 감사 후에
네 근데 감사 끝나고요
내일
나중에
다음 주
감사 후에
Bob한테 물어봐
뭘 승인해요?
이게 뭐예요?
네... 아니요
됐어요
50유로면 승인할게요
승인, 단 50유로만
아마도
글쎄요
모르겠어요
중지
취소
보류
다른 걸 승인하세요, 이거 말고
"""

APPROVE["en"] = """
yes
Yes.
approve
APPROVE
approved
Approved
go ahead
Yes, go ahead
lgtm
👍
Approved. Thanks!
yes please
Yes, approved.
Approve - thanks
APPROVED
Approved, go ahead
sure
yes, approved, thank you
"""
APPROVE["de"] = """
ja
genehmigt
freigegeben
Ja, bitte freigeben
einverstanden
Ja, genehmigt. Danke
ok, freigegeben
"""
APPROVE["fr"] = """
oui
approuvé
j'approuve
d'accord
validé
Oui, allez-y
Oui, approuvé. Merci
"""
APPROVE["es"] = """
sí
si
aprobado
apruebo
de acuerdo
adelante
Sí, aprobado. Gracias
"""
APPROVE["it"] = """
sì
approvato
approvo
va bene
d'accordo
procedi
"""
APPROVE["pt"] = """
sim
aprovado
aprovo
pode seguir
de acordo
Sim, aprovado
sim, pode aprovar
"""
APPROVE["nl"] = """
ja
goedgekeurd
akkoord
prima
ga je gang
Ja, akkoord
"""
APPROVE["pl"] = """
tak
zatwierdzam
zatwierdzone
akceptuję
zgoda
"""
APPROVE["sv"] = """
ja
godkänd
godkänt
godkänner
Ja, godkänt
"""
APPROVE["tr"] = """
evet
onaylandı
onaylıyorum
onay
tamam
"""
APPROVE["ja"] = """
はい
承認
承認します
問題ありません
"""
APPROVE["zh"] = """
同意
批准
好的
可以
没问题
"""
APPROVE["ru"] = """
да
одобрено
одобряю
согласовано
утверждаю
"""
APPROVE["ar"] = """
نعم
موافق
أوافق
تمت الموافقة
"""
APPROVE["hi"] = """
हाँ
मंज़ूर
मंजूर है
स्वीकृत
"""
APPROVE["ko"] = """
네
예
승인
승인합니다
"""


def lines(block: str) -> list[str]:
    return [line for line in block.strip("\n").split("\n") if line.strip()]


# --- client shapes ------------------------------------------------------------------------

_ADDR = "HL Approvals <approvals@hl.example>"
_BODY = [
    "ACME GmbH requests a refund of 120 EUR for order A-7731.",
    "",
    "Reply APPROVE or REJECT.",
    "You may add a reason after REJECT.",
]

_GMAIL_ATTRIBUTION = {
    "en": f"On Mon, 3 Jun 2024 at 10:12, {_ADDR} wrote:",
    "de": f"Am Mo., 3. Juni 2024 um 10:12 Uhr schrieb {_ADDR}:",
    "fr": f"Le lun. 3 juin 2024 à 10:12, {_ADDR} a écrit :",
    "es": "El lun, 3 jun 2024 a las 10:12, HL Approvals (<approvals@hl.example>) escribió:",
    "it": f"Il giorno lun 3 giu 2024 alle ore 10:12 {_ADDR} ha scritto:",
    "pt": f"Em seg., 3 de jun. de 2024 às 10:12, {_ADDR} escreveu:",
    "nl": f"Op ma 3 jun 2024 om 10:12 schreef {_ADDR}:",
    "pl": f"pon., 3 cze 2024 o 10:12 {_ADDR} napisał(a):",
    "sv": f"Den mån 3 juni 2024 kl 10:12 skrev {_ADDR}:",
    "tr": f"3 Haz 2024 Pzt, 10:12 tarihinde {_ADDR} şunu yazdı:",
    "ja": f"2024年6月3日(月) 10:12 {_ADDR}:",
    "zh": f"{_ADDR} 于2024年6月3日周一 10:12写道：",
    "ru": f"пн, 3 июн. 2024 г. в 10:12, {_ADDR}:",
    "ar": f"في الاثنين، 3 يونيو 2024 في 10:12 ص، كتب {_ADDR}:",
    "hi": f"सोम, 3 जून 2024 को 10:12 am बजे {_ADDR} ने लिखा:",
    "ko": f"2024년 6월 3일 (월) 오전 10:12, {_ADDR}님이 작성:",
}

_PHONE = {
    "en": "Sent from my iPhone",
    "de": "Von meinem iPhone gesendet",
    "fr": "Envoyé de mon iPhone",
    "es": "Enviado desde mi iPhone",
    "it": "Inviato da iPhone",
    "pt": "Enviado do meu iPhone",
    "nl": "Verzonden vanaf mijn iPhone",
    "pl": "Wysłane z iPhone'a",
    "sv": "Skickat från min iPhone",
    "tr": "iPhone'umdan gönderildi",
    "ja": "iPhoneから送信",
    "zh": "发自我的iPhone",
    "ru": "Отправлено с iPhone",
    "ar": "أُرسلت من الـ iPhone",
    "hi": "मेरे iPhone से भेजा गया",
    "ko": "iPhone에서 보냄",
}


def _gmail(text: str, lang: str) -> str:
    quote = "\n".join(f"> {line}" if line else ">" for line in _BODY)
    return f"{text}\n\n{_GMAIL_ATTRIBUTION[lang]}\n{quote}\n"


def _gmail_approve_in_quote(text: str, lang: str) -> str:
    # our email quoted, with a bare APPROVE line in it (a button label turned to text)
    return (
        f"{text}\n\n{_GMAIL_ATTRIBUTION[lang]}\n"
        "> ACME GmbH requests a refund of 120 EUR for order A-7731.\n>\n> APPROVE\n>\n> REJECT\n"
    )


def _gmail_unquoted(text: str, lang: str) -> str:
    # HTML-to-text that lost the ">" markers
    return f"{text}\n\n{_GMAIL_ATTRIBUTION[lang]}\n\n" + "\n".join(_BODY) + "\n"


def _outlook(text: str, lang: str) -> str:
    return (
        f"{text}\n\n________________________________\n"
        f"From: {_ADDR}\nSent: Monday, June 3, 2024 10:12 AM\n"
        "To: Jane Doe <jane@acme.example>\n"
        "Subject: Approval needed: refund 120 EUR (A-7731)\n\n" + "\n".join(_BODY) + "\n"
    )


def _outlook_mobile(text: str, lang: str) -> str:
    return (
        f"{text}\n\nGet Outlook for Android\n"
        f"________________________________\nFrom: {_ADDR}\n"
        "Sent: Monday, June 3, 2024 10:12:01 AM\nTo: jane@acme.example\n"
        "Subject: Approval needed\n\nReply APPROVE or REJECT.\n"
    )


def _apple(text: str, lang: str) -> str:
    return (
        f"{text}\n\n{_PHONE[lang]}\n\n"
        f"> On 3 Jun 2024, at 10:12, {_ADDR} wrote:\n>\n> Reply APPROVE or REJECT.\n"
    )


def _signature(text: str, lang: str) -> str:
    return f"{text}\n\n-- \nJane Doe\nHead of Finance | ACME GmbH\n+49 30 1234567\n"


def _phone_footer(text: str, lang: str) -> str:
    return f"{text}\n\n{_PHONE[lang]}\n"


def _html_artifacts(text: str, lang: str) -> str:
    return f"{text}\u00a0\n\n\u00a0\n[cid:image001.png@01DAB2C3.4D5E6F70]\n\n" + _gmail("", lang)


def _greeting(text: str, lang: str) -> str:
    return f"Hi,\n\n{text}\n\nThanks,\nJane\n"


SHAPES = {
    "gmail": _gmail,
    "gmail_approve_in_quote": _gmail_approve_in_quote,
    "gmail_unquoted": _gmail_unquoted,
    "outlook": _outlook,
    "outlook_mobile": _outlook_mobile,
    "apple": _apple,
    "signature": _signature,
    "phone_footer": _phone_footer,
    "html": _html_artifacts,
}


def cases(table: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(language, shape, reply, text) for every reply bare and in one client shape."""
    out = []
    shapes = list(SHAPES.items())
    n = 0
    for lang, block in table.items():
        for reply in lines(block):
            out.append((lang, "bare", reply, reply))
            name, wrap = shapes[n % len(shapes)]
            out.append((lang, name, reply, wrap(reply, lang)))
            n += 1
    return out


# Shapes found after the blind pass, while reading the gate's exemptions: each approved
# before its fix (separators, plain-yes punctuation, emoticons, names and titles that are
# deferrals). Used as they are, not wrapped.
FOUND: list[str] = [
    "Approved\n\n________________________________\nwait, not this one",
    "Approved\n\n-----Original Message-----\nnot yet",
    "Approved\n\n---------- Forwarded message ---------\nhold on",
    "That's fine?",
    "Works for me?",
    "That's fine :(",
    "That's fine. ;)",
    "Approved for $120",
    "Approved :(",
    "Approved:(",
    "Approved :/",
    "Approved :-(",
    "Approved ;)",
    "Approved -_-",
    "Approved!!\n:(",
    "Approved, order A-7731 :/",
    "Approved.\n\nThanks,\nSomeday",
    "Yes\n\nThanks,\nSometime",
    "Ja\n\nDanke,\nIrgendwann",
    "Approved\nJane Doe\nAwaiting Legal",
    "Approved\nJane Doe\nFinance Approval Required",
]

# Approvals the fixes must keep.
KEPT: list[str] = [
    "Approved\n\n---\nJane Doe\nHead of Finance",
    "Approved\n\n____\nJane Doe | ACME GmbH",
    "Approved\n\n-----Original Message-----\nFrom: HL Approvals <approvals@hl.example>\n"
    "Sent: Monday, June 3, 2024 10:12 AM\nSubject: Approval needed\n\nReply APPROVE or REJECT.",
    "Approved :)",
    "No problem, go ahead :)",
    "No problem, go ahead.",
    "Approved for €120",
    "没问题，请继续",
]
