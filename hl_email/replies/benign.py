"""Closed word lists of what may follow an approval (read by ``comment.py``).

After the approval head ("Approved.", "Yes,", "はい、") only these may follow: thanks,
greetings and sign-offs, a short list of harmless comment phrases per supported language,
name and signature lines, and words naming the request. Everything else is asked again.
The lists are closed on purpose: a phrase missing here costs one more question to the human,
never an approval. Entries are lower-case; ``|`` separates them; accent-less spellings are
added when they are compiled. For zh and ja, entries match as substrings of a run.
"""

from __future__ import annotations

__all__ = [
    "BENIGN",
    "BENIGN_EMOJI",
    "CONNECTORS",
    "DEVICE_WORDS",
    "LEGAL_SUFFIXES",
    "NOT_NAMES",
    "REQUEST_VERBS",
    "SENT_FROM",
    "STREET_WORDS",
    "TITLE_WORDS",
]

# Harmless comments, thanks and sign-offs, per supported language.
BENIGN: dict[str, str] = {
    "en": "thanks|thank you|thanks a lot|thanks so much|thank you so much|many thanks|"
    "thanks again|thx|ty|tyvm|cheers|best|best regards|kind regards|regards|warm regards|"
    "warmest regards|all the best|sincerely|yours|yours sincerely|yours truly|best wishes|"
    "warmly|take care|talk soon|speak soon|br|rgds|kr|much appreciated|appreciated|"
    "appreciate it|i appreciate it|thanks for checking|thank you for checking|"
    "thanks for asking|thank you for asking|thanks for the reminder|thanks for flagging|"
    "thanks for your patience|thank you for your patience|thanks for waiting|"
    "good catch|nice catch|nice work|great work|good work|well done|nice job|great job|"
    "good job|keep it up|keep up the good work|have a nice day|have a good day|"
    "have a great day|have a nice weekend|have a good weekend|have a great weekend|"
    "have a good one|enjoy your day|enjoy the weekend|have a nice evening|good luck with the launch|"
    "no problem|no worries|no problem at all|happy to help|happy to approve|glad to help|"
    "works for me|that works|that works for me|that's fine|that is fine|that's ok|"
    "that's okay|that is ok|fine with me|fine by me|sounds great|sounds perfect|"
    "looks great|great|perfect|excellent|awesome|cool|nice|super|wonderful|brilliant stuff|"
    "all good|all set|you're welcome|sorry for the delay|sorry for the late reply|"
    "sorry for the wait|as discussed|as agreed|as requested|please|pls|please proceed|"
    "go ahead|please go ahead|ok|okay|yes|approved|thanks for sorting this|"
    "thanks for handling this|thanks for taking care of this|best of luck|"
    "is fine|is ok|is okay|is correct|is right|is good|looks right|looks correct|"
    "looks correct to me|looks right to me|looks fine|that's correct|that is correct|"
    "thanks for the summary|thanks for the quick summary|"
    "thanks for the clear summary|thank you for the summary|thanks for the details|"
    "thank you for the details|good catch by the agent|nice catch by the agent|"
    "the customer is right|customer is right|they're a good customer|good customer|"
    "sorry it took me a while|sorry it took so long|sorry for the slow reply|"
    "i've reviewed the details|i have reviewed the details|i've checked|i have checked|"
    "i checked|checked|reviewed|checks out|it checks out|the invoice checks out|"
    "this matches|matches|all in order|everything is in order|looks legit",
    "de": "danke|vielen dank|danke schön|dankeschön|herzlichen dank|besten dank|danke dir|"
    "danke euch|danke ihnen|merci|gruß|grüße|viele grüße|beste grüße|liebe grüße|"
    "herzliche grüße|freundliche grüße|mit freundlichen grüßen|mit besten grüßen|"
    "schöne grüße|lg|vg|mfg|bg|gruss|grüsse|viele grüsse|beste grüsse|liebe grüsse|"
    "danke für die nachfrage|danke für die erinnerung|danke fürs nachfragen|gute arbeit|"
    "super arbeit|gut gemacht|schönes wochenende|schönen tag|einen schönen tag|"
    "schönen abend|bis bald|kein problem|passt|passt so|alles gut|alles klar|gerne|"
    "sehr gerne|prima|super|perfekt|bitte|bitte schön|tschüss|ciao|mach|mach das|mach es|"
    "danke für die zusammenfassung|danke für die schnelle zusammenfassung|danke für die arbeit|"
    "mach ruhig|mach nur|leg los|nur zu|der kunde hat recht|kunde hat recht|geprüft|"
    "ich habe es geprüft|passt alles|stimmt|stimmt so|sorry für die verspätung",
    "fr": "merci|merci beaucoup|merci bien|merci encore|mille mercis|cordialement|"
    "bien cordialement|bien à vous|bien à toi|salutations|sincères salutations|"
    "amicalement|amitiés|bonne journée|bonne soirée|bon week-end|bon weekend|à bientôt|"
    "a bientôt|merci de vérifier|merci d'avoir vérifié|merci pour le rappel|bon travail|"
    "beau travail|bien joué|pas de problème|pas de souci|aucun problème|parfait|super|"
    "génial|très bien|s'il vous plaît|s'il te plaît|stp|svp|bises|bisous|"
    "merci pour le résumé|merci pour les détails|le client a raison|c'est vérifié|vérifié|"
    "merci pour le travail|merci pour le récapitulatif|"
    "désolé pour le retard|désolée pour le retard",
    "es": "gracias|muchas gracias|mil gracias|saludos|un saludo|saludos cordiales|"
    "atentamente|cordialmente|un abrazo|abrazos|buen fin de semana|buen día|que tengas un buen día|"
    "buena tarde|hasta pronto|gracias por preguntar|gracias por confirmar|gracias por revisar|"
    "buen trabajo|bien hecho|sin problema|no hay problema|ningún problema|perfecto|genial|"
    "estupendo|muy bien|por favor|porfa|adelante|claro que sí|de nada|"
    "el cliente tiene razón|gracias por el resumen|revisado|comprobado|gracias por el trabajo|"
    "perdón por la demora|disculpa la demora",
    "pt": "obrigado|obrigada|muito obrigado|muito obrigada|valeu|abraço|abraços|um abraço|"
    "atenciosamente|cumprimentos|saudações|att|bom fim de semana|bom dia|boa tarde|"
    "tenha um bom dia|até logo|até breve|obrigado por verificar|obrigada por verificar|"
    "obrigado por perguntar|bom trabalho|muito bem|sem problema|sem problemas|perfeito|"
    "ótimo|otimo|beleza|por favor|pode seguir|pode prosseguir|o cliente tem razão|"
    "obrigado pelo trabalho|obrigada pelo trabalho|"
    "obrigado pelo resumo|obrigada pelo resumo|verificado|desculpe a demora",
    "it": "grazie|grazie mille|grazie ancora|saluti|cordiali saluti|distinti saluti|"
    "un saluto|buona giornata|buona serata|buon fine settimana|buon weekend|a presto|"
    "grazie per aver controllato|grazie per la verifica|buon lavoro|ottimo lavoro|"
    "bel lavoro|nessun problema|perfetto|ottimo|benissimo|per favore|per piacere|"
    "il cliente ha ragione|grazie per il riepilogo|verificato|scusa il ritardo|grazie per il lavoro|"
    "grazie per il riassunto",
    "nl": "bedankt|dank je|dank je wel|dank u|dank u wel|hartelijk dank|dankjewel|groeten|"
    "groetjes|met vriendelijke groet|met vriendelijke groeten|vriendelijke groet|mvg|"
    "hartelijke groet|fijn weekend|prettig weekend|fijne dag|tot snel|goed werk|"
    "goed gedaan|geen probleem|prima|perfect|super|top|graag gedaan|alsjeblieft|alstublieft|"
    "de klant heeft gelijk|gecontroleerd|sorry voor de vertraging|bedankt voor de samenvatting|"
    "dank je voor de samenvatting",
    "pl": "dzięki|dziękuję|dziękuję bardzo|wielkie dzięki|pozdrawiam|pozdrowienia|"
    "z poważaniem|serdecznie pozdrawiam|miłego dnia|miłego weekendu|do usłyszenia|"
    "dobra robota|świetna robota|nie ma problemu|bez problemu|super|świetnie|proszę|"
    "klient ma rację|sprawdzone|przepraszam za zwłokę|dzięki za podsumowanie|"
    "dziękuję za podsumowanie",
    "sv": "tack|tack så mycket|tusen tack|stort tack|hälsningar|vänliga hälsningar|"
    "med vänliga hälsningar|mvh|bästa hälsningar|trevlig helg|ha en bra dag|hörs|"
    "bra jobbat|snyggt jobbat|inga problem|perfekt|toppen|super|snälla|kunden har rätt|"
    "kontrollerat|förlåt dröjsmålet|tack för sammanfattningen",
    "da": "tak|mange tak|tusind tak|tak skal du have|hilsen|venlig hilsen|"
    "med venlig hilsen|mvh|de bedste hilsner|god weekend|god dag|ha' en god dag|"
    "godt arbejde|godt gået|intet problem|ingen problemer|perfekt|super|fint|"
    "kunden har ret|tjekket|tak for opsummeringen|tak for sammenfatningen",
    "no": "takk|tusen takk|mange takk|takk skal du ha|hilsen|vennlig hilsen|"
    "med vennlig hilsen|mvh|beste hilsen|god helg|ha en fin dag|bra jobba|godt jobbet|"
    "ikke noe problem|ingen problem|perfekt|supert|fint|kunden har rett|sjekket|"
    "takk for oppsummeringen",
    "ru": "спасибо|большое спасибо|спасибо большое|благодарю|с уважением|всего доброго|"
    "всего хорошего|хорошего дня|хороших выходных|до связи|отличная работа|хорошая работа|"
    "молодцы|без проблем|нет проблем|отлично|прекрасно|супер|пожалуйста|клиент прав|"
    "проверено|я проверил|я проверила|извините за задержку|спасибо за сводку|"
    "спасибо за резюме|спасибо за работу",
    "uk": "дякую|щиро дякую|дуже дякую|з повагою|гарного дня|гарних вихідних|до зв'язку|"
    "чудова робота|гарна робота|без проблем|немає проблем|чудово|відмінно|супер|будь ласка|"
    "клієнт має рацію|клієнт правий|перевірено|дякую за підсумок|дякую за роботу",
    "zh": "谢谢|謝謝|多谢|多謝|感谢|感謝|谢谢你|谢谢您|辛苦了|辛苦|麻烦了|祝好|此致|敬礼|"
    "敬禮|周末愉快|週末愉快|做得好|干得好|幹得好|没问题|沒問題|好的|可以|请|請|加油|"
    "客户说得对|客戶說得對|已核实|已核實|抱歉回复晚了|谢谢你的总结|谢谢您的总结|谢谢总结|"
    "謝謝你的總結",
    "ja": "ありがとう|ありがとうございます|ありがとうございました|よろしく|よろしくお願いします|"
    "よろしくお願いいたします|宜しくお願いします|お願いします|お願いいたします|"
    "お疲れ様です|お疲れさまです|助かります|いつもありがとうございます|良い週末を|"
    "問題ありません|大丈夫です|様|さん|お客様の言う通りです|確認済みです|"
    "遅くなってすみません|遅くなり申し訳ありません|まとめありがとうございます|"
    "まとめていただきありがとうございます",
}

# Joining words allowed between benign phrases ("thanks and have a nice weekend").
CONNECTORS = "and|&|und|et|y|e|en|i|och|og|и|і|та|so|very|for|für|pour|para|per|voor|dla|för|до"

# Verbs that name what an approval lets the agent do ("go ahead and refund ACME"): read as
# words of the request (what they act on must still be the request's own words).
REQUEST_VERBS = (
    "refund|process|pay|issue|run|execute|proceed|proceed with|send it|do|"
    "erstatten|zurückerstatten|auszahlen|ausführen|bearbeiten|durchführen|"
    "rembourser|traiter|effectuer|exécuter|reembolsar|procesar|ejecutar|tramitar|"
    "processar|executar|rimborsare|procedere|eseguire|terugbetalen|uitvoeren|verwerken|"
    "zwrócić|zwrot|wykonać|återbetala|genomför|utför|refundere|udfør|tilbakebetale|utfør|"
    "вернуть|выполнить|оформить|повернути|виконати|оформити|退款|退|执行|處理|处理|返金|実行|処理"
)

# Emoji and symbols that are harmless after an approval. Any other symbol is asked again.
BENIGN_EMOJI = "👍|✅|✔|☑|👌|🆗|💯|🙂|😊|😀|😃|😄|😁|☺|🙏|🎉|🥳|👏|💪|🚀|❤|♥|💙|💚|✨|🌞|😎|✓"

# "Sent from my iPhone", "Von meinem iPhone gesendet", "Get Outlook for iOS".
SENT_FROM = (
    "sent from my|sent from|sent via|sent with|get outlook for|envoyé de mon|envoyé depuis mon|"
    "von meinem|gesendet von meinem|gesendet mit|enviado desde mi|enviado desde|enviado do meu|"
    "enviado de meu|enviado do|inviato da|inviato dal mio|verzonden vanaf mijn|"
    "verstuurd vanaf mijn|verzonden met|wysłane z mojego|wysłane z|skickat från min|"
    "skickat från|sendt fra min|sendt fra|отправлено с|отправлено из|надіслано з"
)
# The words a device line may hold after its opening (closed: "Sent from my phone, not
# approved" is not a device line).
DEVICE_WORDS = (
    "iphone|ipad|ipod|android|samsung|galaxy|pixel|google|mobile|phone|smartphone|"
    "tablet|blackberry|outlook|mail|gmail|yahoo|apple|watch|huawei|xiaomi|oneplus|nokia|"
    "motorola|sony|xperia|lg|htc|oppo|vivo|fairphone|ios|ipados|proton|protonmail|"
    "thunderbird|spark|airmail|edison|newton|superhuman|fastmail|hey|aol|windows|macbook|"
    "mac|pro|max|plus|mini|ultra|note|fold|flip|edge|lite|se|air|for|the|my|a|an|app|"
    "device|handy|mobiltelefon|téléphone|telefon|telefoon|teléfono|telefone|telefono|"
    "gesendet|inviato|mijn|mojego|min|meu|mi|mon|meinem|de|do|da|von|mit|met|vanaf|"
    "с|из|моего|iphone'a|айфона|моего|мого|з|mobil|mobiel|móvil|celular|cellulare|"
    "smartfona|telefonu|android'a"
)

# Words of a job title in a signature ("Head of Finance", "VP Ops"), read even when the
# lexicon holds them as a signal ("Ops" is also "oops").
TITLE_WORDS = (
    "vp|svp|evp|avp|ops|operations|cfo|ceo|cto|coo|cio|ciso|cmo|cpo|head|chief|officer|"
    "director|manager|lead|leader|finance|financial|engineering|engineer|sales|marketing|"
    "hr|people|legal|counsel|product|products|senior|sr|junior|jr|principal|staff|vice|"
    "president|assistant|associate|team|department|dept|founder|co-founder|cofounder|"
    "partner|analyst|accountant|accounting|controller|controlling|admin|administrator|"
    "support|customer|success|service|services|security|compliance|risk|treasury|"
    "payments|billing|procurement|purchasing|logistics|office|executive|general|"
    "owner|consultant|specialist|coordinator|representative|account|accounts|"
    "payable|receivable|group|global|regional|emea|apac|americas|dach|eu|us|uk|"
    "geschäftsführer|geschäftsführerin|leiter|leiterin|abteilungsleiter|buchhaltung|"
    "vertrieb|einkauf|finanzen|directeur|directrice|responsable|comptable|director|"
    "directora|gerente|jefe|jefa|contabilidad|finanzas|diretor|diretora|financeiro|"
    "direttore|direttrice|responsabile|amministrazione|hoofd|financiën|manager|"
    "kierownik|dyrektor|księgowość|chef|ekonomi|økonomi|директор|руководитель|"
    "бухгалтерия|финансов|финансы|керівник|фінансів|of|and|&|for|the|de|du|des|der|"
    "die|van|von|di|da|la|le|el|y|e|en|i|och|og|и|і|at|@"
)

# Company forms in a signature ("ACME GmbH", "Foo Ltd.").
LEGAL_SUFFIXES = (
    "gmbh|ag|kg|ohg|ug|se|inc|llc|llp|ltd|limited|plc|corp|corporation|co|company|sa|sas|"
    "sarl|srl|spa|bv|nv|ab|as|asa|aps|oy|oyj|sp|zoo|ooo|ооо|pty|pvt|kk|gk|group|holding|"
    "holdings|labs|technologies|systems|solutions|gbr|ev|e.v"
)

# Street words of an address in a signature ("123 Main St", "Via Roma 12").
STREET_WORDS = (
    "st|street|str|straße|strasse|weg|platz|allee|gasse|ring|damm|ufer|via|viale|piazza|"
    "corso|rue|avenue|ave|av|avenida|boulevard|blvd|bd|road|rd|lane|ln|drive|dr|way|court|"
    "ct|place|pl|square|sq|calle|carrer|plaza|paseo|rua|praça|travessa|straat|laan|plein|"
    "gracht|ul|ulica|aleja|al|gatan|gata|vej|gade|veien|gate|улица|ул|проспект|пр|вулиця|"
    "вул|floor|fl|suite|ste|unit|building|bldg|po|box|etage|stock|og|piso|andar|piano|"
    "cedex|usa|germany|deutschland|france|spain|españa|italy|italia|uk|netherlands|"
    "nederland|poland|polska|sweden|sverige|denmark|danmark|norway|norge|austria|"
    "österreich|switzerland|schweiz|suisse|berlin|munich|münchen|hamburg|paris|london|"
    "madrid|barcelona|rome|roma|milan|milano|amsterdam|warsaw|warszawa|stockholm|"
    "copenhagen|københavn|oslo|vienna|wien|zurich|zürich|new|york|ny|ca|tx|san|francisco"
)

# Title-case words that are never a name under a sign-off (the lexicon's signal words are
# not names either; these are the ones a person might write alone on a line to take the
# yes back).
NOT_NAMES = (
    "withdrawn|withdraw|rescinded|rescind|revoked|revoke|void|cancelled|canceled|cancel|"
    "scratch|scrap|joke|joking|kidding|jk|sike|psych|typo|misclick|mistake|oops|ops|pass|"
    "nix|nope|nah|negative|hold|wait|stop|later|soon|tomorrow|tmrw|tmw|tommorow|tomorow|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|"
    "april|june|july|august|september|october|november|december|feb|mar|apr|jun|jul|"
    "aug|sep|sept|oct|nov|dec|next|week|weekend|month|year|today|tonight|morning|"
    "afternoon|evening|noon|eod|eow|cob|maybe|perhaps|idk|dunno|hmm|hmmm|unsure|pending|tbd|tba|"
    "ignore|disregard|nvm|nevermind|never|not|no|none|later|sorry|reconsider|reconsidering|"
    "rethink|rethinking|abort|halt|pause|paused|denied|deny|declined|decline|rejected|"
    "reject|veto|vetoed|why|what|who|when|how|really|seriously|sarcasm|lol|ha|haha|"
    "vielleicht|morgen|nicht|nein|warte|später|peut-être|demain|non|attends|quizás|"
    "quizá|mañana|espera|talvez|amanhã|forse|domani|aspetta|misschien|morgen|wacht|"
    "może|jutro|kanske|imorgon|vänta|måske|imorgen|vent|kanskje|может|завтра|нет|"
    "подожди|можливо|завтра|ні|зачекай|urgent|asap|again|also|but|only|except|if|unless"
)
