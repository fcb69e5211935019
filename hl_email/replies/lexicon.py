"""Word lists of the decision grammar, one closed lexicon per supported language.

A language is supported as a whole or not at all: its approval utterances are listed only
together with its negators, conditions, deferrals, acknowledgements and the other signals
that make an answer something other than a plain yes. ``decide.py`` holds the logic; this
module holds only words. Entries are written lower-case; ``|`` separates entries. For the
languages without word spaces (zh, ja) entries match as substrings, elsewhere as whole words
(a ``*`` at the end of an entry matches any ending: ``reject*`` is "rejection", "rejecting").
Accent-less spellings ("nao", "aprobo") are added automatically when the lexicon is compiled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FOREIGN", "GREETINGS", "LANGUAGES", "SIGNAL_KINDS", "THANKS", "UNIVERSAL", "Language"]

# The kinds of signal that make a reply not a plain yes, in the order a tie is reported.
SIGNAL_KINDS = (
    "sarcasm",
    "retraction",
    "hedge",
    "acknowledgement",
    "delegation",
    "deferral",
    "condition",
    "counter_offer",
    "question",
    "question_anywhere",
    "time",
    "reject",
    "negation",
)


@dataclass(frozen=True, slots=True)
class Language:
    """Every word list the grammar needs for one language."""

    code: str
    name: str
    approve: str  # complete approval utterances (the first clause must be made of these)
    reject: str  # complete rejection utterances
    negation: str
    condition: str
    deferral: str
    acknowledgement: str
    time: str = ""
    hedge: str = ""
    retraction: str = ""
    delegation: str = ""
    counter_offer: str = ""
    question: str = ""  # question words that count at the start of a clause
    question_anywhere: str = ""  # question words that count anywhere
    sarcasm: str = ""
    courtesy: str = ""  # greetings, thanks and "please": allowed around the approval
    neutral: str = ""  # set phrases holding a signal word that mean nothing ("good morning")
    alone: str = ""  # approve only when the whole reply is this word ("si", "vale")
    spaced: bool = True  # False: no spaces between words (entries match as substrings)
    pronouns: str = ""  # "I", "we": may lead a negated approval ("I do not approve")
    extra: dict[str, str] = field(default_factory=dict)

    def words(self, kind: str) -> tuple[str, ...]:
        value = getattr(self, kind) if kind in _FIELDS else self.extra.get(kind, "")
        return tuple(w.strip() for w in value.split("|") if w.strip())


_FIELDS = frozenset(Language.__dataclass_fields__)

EN = Language(
    code="en",
    name="English",
    approve="yes|yes please|yeah|yep|yup|ok|okay|okey|okey dokey|kk|approve|approved|"
    "i approve|we approve|i approve this|approve it|approve this|approve that|approved it|"
    "approved this|approve the request|approve this request|lgtm|looks good|looks good to me|"
    "sounds good|sounds good to me|go ahead|go for it|please go ahead|please proceed|proceed|"
    "please do|please do so|do it|do it please|ship it|sure|sure thing|confirmed|i confirm|"
    "accepted|i accept|agreed|i agree|agree|fine|fine by me|fine with me|all good|absolutely|"
    "definitely|certainly|of course|affirmative|granted|allowed|approval granted|+1|thumbs up|"
    "yes go ahead|go|perfect|alright|all right|ok then|okay then|alright then|ok to proceed|okay to proceed|ok to go|"
    "good to go|ok to ship|ok for me|ok by me|fine for me|okay for me",
    reject="no|nope|nah|reject|rejected|i reject|reject it|reject this|deny|denied|decline|"
    "declined|i decline|refuse|refused|i refuse|disapprove|disapproved|veto|vetoed|don't|dont|"
    "do not|don't do it|do not do it|don't do this|do not do this|dont do it|not approved|"
    "not ok|not okay|absolutely not|definitely not|certainly not|of course not|no way|stop|"
    "cancel|cancel it|abort|never|no thanks|no thank you|hell no|not this time|"
    "i can't approve this|i cannot approve this",
    negation="not|no|never|don't|dont|do not|doesn't|doesnt|didn't|didnt|can't|cant|cannot|"
    "can not|won't|wont|wouldn't|wouldnt|shouldn't|shouldnt|mustn't|isn't|isnt|aren't|arent|"
    "wasn't|wasnt|weren't|haven't|havent|hasn't|hadn't|couldn't|couldnt|nothing|nobody|"
    "no one|noone|none|neither|nor|without|nope|nah|nay|disagre*|disapprov*|unapprov*|"
    "unaccept*|inaccept*|false|reject*|declin*|refus*|denied|denial|denies|denying|cancel*|abort*|"
    "veto*|disallow*|revok*|forbid*|prohibit*|stopp*|halt*",
    condition="require*|prerequisite|needed|if|unless|but|only|except|provided|providing|as long as|so long as|assuming|"
    "once|after|when|whenever|however|though|although|pending|subject to|on condition|"
    "condition*|contingent|terms apply|conditions apply|until|till|before|first|then|otherwise|depending|depends|"
    "as soon as|in case|whether|upon",
    deferral="await*|someday|some day|sometime|one day|at some point|let me|let us|let's|i'll|ill|i will|we'll|we will|i'm going to|gonna|going to|"
    "look at|look into|looking into|check|checking|review|reviewing|discuss*|"
    "think about|thinking|consider|considering|get back|revisit|circle back|follow up|"
    "wait|hold|hold off|pause|paused|delay|delayed|postpone*|defer*|remind*|not yet|"
    "tbd|tbc|tba|eventually|ttyl|brb|l8r|later on|to be confirmed|to be decided|leave it with me|leave this with me|in a bit|in a while|shortly|give me|need to|have to|must|needs to|sleep on it",
    acknowledgement="noted|received|got it|gotcha|understood|acknowledged|ack|seen|read it|"
    "roger|copy that|heard|fyi|i see|saw|i saw|i've seen|have seen|heads up|good to know|aware|will do|thanks for letting me "
    "know|thanks for the update|thanks for the info|thank you for the information|on it|"
    "i know|makes sense|interesting",
    time="tomorrow|tmrw|tmr|tmrw|2morrow|tomoz|tonite|tonight|later|soon|next|monday|tuesday|wednesday|thursday|friday|saturday|"
    "sunday|tue|tues|thu|thur|thurs|fri|weekend|week|weeks|month|months|year|"
    "morning|afternoon|evening|noon|midnight|o'clock|eod|eow|eom|cob|january|february|"
    "march|april|june|july|august|september|october|november|december|feb|mar|apr|jun|"
    "jul|aug|sep|sept|oct|nov|dec|q1|q2|q3|q4|hour|hours|minute|minutes|day|days|date",
    hedge="maybe|ish|perhaps|bad idea|terrible idea|risky|dangerous|doubt*|concern*|worried|"
    "worry|worries|hesitant|uneasy|suspicious|skeptical|sceptical|"
    "possibly|probably|i think|i guess|i suppose|i believe|i assume|"
    "not sure|unsure|might|may|could|would|should|seems|seem|kinda|kind of|sort of|i hope|"
    "hopefully|whatever|if you must|no problem|no worries|no objection|no objections|why not|"
    "depends|it depends|normally|usually|in principle|in theory|generally|technically|ideally|"
    "i'd|i would|would've|could've|no doubt|no rush|no hurry|no idea|don't know|dunno|idk|"
    "not a problem|fair enough|i reckon|in a perfect world|reluctant*|grudging*|against my better|"
    "your call|your funeral|your risk|at your own risk|on your head|if you say so|if you insist|likely|unlikely|hmm|hm|hmmm|meh|um|umm|uh|er|erm",
    retraction="never mind|nevermind|scratch that|strike that|just kidding|only kidding|kidding|"
    "jk|actually|on second thought|on second thoughts|second thoughts|changed my mind|"
    "change of plan|change of plans|i take it back|take that back|take it back|forget it|"
    "forget that|forget about it|ignore that|ignore this|ignore my|disregard|oops|whoops|"
    "mistake|wrong|wrong button|my bad|psych|psyche|gotcha|april fools|correction|undo|revert|retract*|cancel that|"
    "hold on|hang on|wait a sec|wait a minute|rather not|better not|not anymore|no longer",
    delegation="ask|asking|check with|confirm with|run it by|run this by|talk to|speak to|"
    "loop in|run it past|run this past|run it by|cc|forward it|forward this|forward to|forwarded|forwarding|passed it on|passed this on|escalate|delegate|let him|let her|let them|his call|her call|"
    "their call|not my call|my manager|your manager|my boss|boss|someone|somebody|anyone|"
    "anybody|nobody|no one|everyone|everybody|someone else|up to you|up to him|up to her|"
    "whoever|sign off|sign-off|signoff",
    counter_offer="instead|rather|only|half|partial|partially|less|fewer|more|lower|higher|"
    "smaller|bigger|larger|cheaper|reduce*|cap|capped|limit*|at most|up to|max|maximum|"
    "minimum|min|different|another|other|change|modify|amend|adjust|except|excluding|"
    "double|triple|twice|increase*|raise|bump|extra|additional|also|as well|too|plus|"
    "without|but not|split|part of|some of|portion|minus|plus|deduct*|discount*|subtract*|"
    "net of|after tax|before tax",
    question="why|what|how|who|whom|whose|which|where|when|is it|is this|are you|are we|"
    "can you|could you|would you|will you|do you|does it|did you|should we|should i|can we|"
    "shall we|any reason|wondering|question",
    question_anywhere="why|how come",
    sarcasm="what could go wrong|what could possibly go wrong|yeah right|sure sure|sure, sure|"
    "yeah yeah|as if|lol|lmao|rofl|haha|hahaha|ha ha|/s|totally|obviously|good luck|"
    "great idea|brilliant|genius|nice try|over my dead body|when pigs fly|pigs fly|hell freezes|"
    "in your dreams|waste|wasting|"
    "sure jan|yea right|because that worked last time|what a great idea",
    courtesy="hi|hello|hey|dear|hiya|greetings|good morning|good afternoon|good evening|"
    "thanks|thank you|thank you very much|thank you so much|thanks a lot|many thanks|"
    "thx|ty|tyvm|cheers|please|pls|plz|kind regards|best regards|regards|best|br|"
    "all the best|warm regards|sincerely|thanks again",
    neutral="good morning|good afternoon|good evening|sorry for the delay|sorry for the late "
    "reply|sorry for the slow reply|sorry for the wait|as discussed|as agreed|as planned|"
    "as requested|as proposed|as we discussed|as we agreed|have a nice day|have a good day|"
    "have a great day|have a nice weekend|have a good weekend|have a great weekend|talk soon|"
    "speak soon|thanks for waiting|thank you for waiting|thanks for your patience|"
    "thank you for your patience|thanks for checking|thanks for asking|thanks for the reminder|"
    "thank you for asking|thank you for checking",
    pronouns="i|we",
    alone="y|k|si",
)

DE = Language(
    code="de",
    name="German",
    approve="ja|jawohl|jo|jep|jup|genau|genehmigt|genehmige|ich genehmige|ich genehmige das|"
    "genehmigt danke|freigegeben|freigeben|gebe frei|ich gebe frei|einverstanden|"
    "bin einverstanden|ich bin einverstanden|in ordnung|passt|passt so|geht klar|mach es|"
    "mach das|mach ruhig|mach weiter|machen sie|machen sie das|bitte machen|bitte durchführen|"
    "durchführen|los|leg los|bestätigt|ich bestätige|ich stimme zu|stimme zu|zugestimmt|"
    "akzeptiert|ich akzeptiere|sieht gut aus|klingt gut|gerne|gern|sicher|klar|natürlich|"
    "selbstverständlich|ja bitte|ja gerne|ja klar|perfekt|super|okay|ok|alles klar|für mich ok|passt für mich",
    reject="nein|ne|nö|nee|abgelehnt|lehne ab|ich lehne ab|ablehnen|nicht genehmigt|"
    "nicht freigegeben|nicht einverstanden|auf keinen fall|keinesfalls|bitte nicht|"
    "nicht machen|stopp|abbrechen|nie|niemals|nein danke",
    negation="nicht|falsch|kein*|nie|niemals|nichts|niemand|nein|weder|noch nicht|ohne|nö|nee|"
    "ablehn*|abgelehn*|abbrech*|abgebroch*|storn*|verweiger*|verbiet*|verbot*",
    condition="erforderlich|benötigt|voraussetzung|wenn|falls|aber|sofern|nur|außer|ausser|vorausgesetzt|solange|sobald|nachdem|"
    "bevor|vorher|erst|zuerst|jedoch|allerdings|unter der bedingung|vorbehaltlich|bis|dann|"
    "sonst|ob|es sei denn",
    deferral="irgendwann|ausstehend|steht aus|ich werde|wir werden|werde|werden|schaue|schau|schauen|prüfe|prüfen|überprüf*|"
    "besprech*|diskutier*|melde mich|denke|überlege|überlegen|warte|warten|abwarten|verschieb*|"
    "zurückkommen|komme zurück|muss|müssen|kläre|klären|später|nachher",
    acknowledgement="notiert|erhalten|verstanden|zur kenntnis|gesehen|gelesen|bekommen|"
    "danke für die info|danke für die information|danke für den hinweis|angekommen|"
    "ist angekommen|gut zu wissen|weiß ich|ich weiß",
    time="morgen|übermorgen|bald|nächste*|montag|dienstag|mittwoch|donnerstag|freitag|samstag|"
    "sonntag|wochenende|woche|wochen|monat|nachmittag|abend|uhr|januar|februar|märz|mai|"
    "juni|juli|oktober|dezember|stunde|stunden|tag|tage|heute abend|demnächst",
    hedge="vielleicht|eventuell|möglicherweise|wahrscheinlich|ich glaube|ich denke|glaube|"
    "vermutlich|nicht sicher|unsicher|wohl|könnte|würde|sollte|scheint|irgendwie|meinetwegen|"
    "von mir aus|kein problem|keine sorge|wieso nicht|warum nicht|normalerweise|"
    "grundsätzlich|eigentlich|im prinzip|theoretisch|mal sehen|keine ahnung|hmm|naja|na ja",
    retraction="vergiss es|vergessen sie es|vergiss das|doch nicht|lieber nicht|besser nicht|"
    "moment|moment mal|kommando zurück|scherz|nur ein scherz|war ein scherz|war nur spaß|"
    "spaß|ich nehme das zurück|nehme es zurück|halt|warte mal|korrektur|"
    "falsch|fehler|ups|hoppla|stornieren|rückgängig|zurückziehen|mein fehler|nicht mehr",
    delegation="frag|fragen|frage|fragt|rücksprache|abstimmen|abstimmung|klär das mit|"
    "weiterleiten|leite weiter|eskalier*|mein chef|meine chefin|chef|chefin|vorgesetzte*|"
    "jemand|jemanden|niemand|keiner|alle|jeder|entscheidet|entscheiden",
    counter_offer="stattdessen|statt|hälfte|halb|teilweise|weniger|mehr|höchstens|"
    "maximal|mindestens|andere*|ändern|änderung|anpassen|kleiner|günstiger|reduzier*|"
    "begrenz*|limit*|außer|ohne",
    question="warum|wieso|weshalb|was|wie|wer|wen|wem|welche*|wo|wohin|wann|kannst du|"
    "können sie|könnten sie|ist das|sind sie|frage",
    question_anywhere="warum|wieso|weshalb|welche*",
    sarcasm="ja klar doch|na klar doch|jaja|ja ja|klar doch|na sicher|was soll schon schiefgehen|"
    "was kann schon schiefgehen|viel glück|tolle idee|super idee|haha|lol",
    courtesy="hallo|hi|hey|moin|servus|liebe|lieber|sehr geehrte|sehr geehrter|"
    "guten morgen|guten tag|guten abend|danke|danke schön|dankeschön|danke sehr|vielen dank|"
    "besten dank|bitte|gruß|grüße|viele grüße|beste grüße|liebe grüße|lg|mfg|vg|"
    "mit freundlichen grüßen|freundliche grüße|herzliche grüße",
    neutral="guten morgen|guten tag|guten abend|schönes wochenende|schönen tag|"
    "schönen abend|bis bald|wie besprochen|wie vereinbart|wie abgesprochen|"
    "sorry für die verspätung|entschuldigung für die verspätung|danke fürs warten|"
    "danke für die geduld|danke für die nachfrage|mit freundlichen grüßen",
    pronouns="ich|wir",
)

FR = Language(
    code="fr",
    name="French",
    approve="oui|ouais|oui merci|d'accord|dac|ok|okay|approuvé|approuve|approuvée|j'approuve|"
    "validé|valide|je valide|c'est validé|accepté|acceptée|j'accepte|allez-y|vas-y|allez y|"
    "vas y|c'est bon|ça marche|ca marche|parfait|bien sûr|volontiers|confirmé|je confirme|"
    "tout à fait|absolument|oui allez-y|go|approuvé merci|top|super|nickel|certainement|ok pour moi|c'est ok pour moi|ça me va|ca me va",
    reject="non|refusé|refusée|je refuse|rejeté|rejetée|je rejette|pas approuvé|pas d'accord|"
    "je ne suis pas d'accord|je n'approuve pas|surtout pas|hors de question|certainement pas|"
    "pas question|non merci|ne faites pas ça|ne fais pas ça|annulé|annulez|stop|jamais",
    negation="ne|n'|pas|non|faux|jamais|aucun*|personne|rien|sans|ni|nullement|refus*|rejet*|annul*|interdi*",
    condition="requis|requise|nécessaire|si|s'il|s'ils|sauf|mais|seulement|uniquement|à condition|pourvu|tant que|"
    "une fois|après|avant|dès que|quand|lorsque|cependant|toutefois|sous réserve|d'abord|"
    "jusqu'à|ensuite|puis|sinon|en attendant|à moins|condition*",
    deferral="un jour|un de ces jours|je vais|on va|nous allons|je regarde|regarder|vérifier|vérifie|vérifierai|"
    "discut*|en parler|réfléchir|je reviens|reviendrai|attendre|attends|attendez|patienter|"
    "reporter|plus tard|je dois|il faut|je vois ça|voir avec|à voir|voyons|on verra|"
    "je verrai",
    acknowledgement="noté|reçu|compris|bien reçu|pris note|vu|lu|c'est noté|bien noté|"
    "entendu|merci pour l'info|merci de l'info|je sais",
    time="demain|après-demain|ce soir|bientôt|prochain|prochaine|lundi|mardi|mercredi|jeudi|"
    "vendredi|samedi|dimanche|semaine|mois|après-midi|soir|heure|heures|janvier|février|"
    "mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|jour|jours|"
    "week-end|weekend",
    hedge="peut-être|peut etre|probablement|sans doute|je pense|je crois|je suppose|pas sûr|"
    "pas sure|incertain|pourrait|devrait|semble|pas de souci|pas de soucis|pas de problème|"
    "aucun problème|pourquoi pas|normalement|en principe|en théorie|a priori|bof|euh|hmm",
    retraction="laisse tomber|enfin|laissez tomber|oublie ça|oubliez ça|oublie|oubliez|en fait|"
    "finalement|je plaisante|je rigole|c'est une blague|blague|pas du tout|à la réflexion|"
    "attends|attendez|annule|annulez|erreur|oups|correction|je retire|"
    "plus maintenant",
    delegation="demande|demander|demandez|voir avec|vérifier avec|valider avec|en parler à|"
    "transférer|transmettre|mon chef|mon responsable|ma responsable|quelqu'un|personne|"
    "tout le monde|décide|décider",
    counter_offer="plutôt|au lieu|à la place|moitié|partiel*|moins|plus|maximum|minimum|"
    "autre|autres|modifier|changer|réduire|limite*|sauf",
    question="pourquoi|quoi|comment|qui|quel|quelle|quels|quelles|où|quand|est-ce|"
    "pouvez-vous|peux-tu|question",
    question_anywhere="pourquoi|quel|quelle|quels|quelles|est-ce que",
    sarcasm="mais bien sûr|c'est ça oui|bien sûr que oui|quelle bonne idée|bonne chance|"
    "qu'est-ce qui pourrait mal tourner|mdr|lol|haha",
    courtesy="bonjour|salut|bonsoir|cher|chère|coucou|merci|merci beaucoup|merci bien|"
    "s'il vous plaît|s'il te plaît|svp|stp|cordialement|bien à vous|bonne journée|"
    "bien cordialement|à bientôt",
    neutral="bonne journée|bonne soirée|bon week-end|bonne semaine|à bientôt|comme convenu|"
    "comme prévu|comme discuté|désolé pour le retard|désolée pour le retard|"
    "merci d'avoir attendu|merci pour votre patience|bien à vous|bonsoir",
    pronouns="je|nous|j'",
)

ES = Language(
    code="es",
    name="Spanish",
    approve="sí|claro|claro que sí|por supuesto|de acuerdo|ok|okay|aprobado|aprobada|apruebo|"
    "lo apruebo|autorizado|autorizo|adelante|dale|procede|proceda|confirmado|confirmo|"
    "aceptado|acepto|perfecto|está bien|me parece bien|hazlo|sí gracias|sí por favor|"
    "genial|excelente|listo|correcto|por mí bien|ok por mi parte",
    reject="no|rechazado|rechazada|rechazo|lo rechazo|denegado|deniego|no aprobado|no apruebo|"
    "no estoy de acuerdo|de ninguna manera|ni hablar|para nada|no lo hagas|no gracias|"
    "cancelar|cancelado|alto|nunca|jamás",
    negation="no|falso|nunca|jamás|nada|nadie|ningún|ninguno|ninguna|ni|sin|tampoco|rechaz*|deneg*",
    condition="requerido|requerida|necesario|si|pero|solo|sólo|solamente|excepto|salvo|siempre que|siempre y cuando|con tal|"
    "mientras|una vez|después|antes|cuando|sin embargo|aunque|primero|hasta|a condición|luego|"
    "entonces|sino|a menos|condici*",
    deferral="algún día|pendiente|voy a|vamos a|lo miro|miraré|revisar|revisaré|reviso|verificar|verifico|"
    "comprobar|hablar|hablaré|hablo|lo hablo|lo consulto|consulto|lo veo|discut*|discutir|pensar|pensaré|lo pienso|te aviso|le aviso|esperar|"
    "espera|espere|aplazar|posponer|más tarde|tengo que|hay que|debo",
    acknowledgement="anotado|recibido|entendido|visto|leído|tomo nota|enterado|enterada|"
    "gracias por la información|gracias por avisar|lo sé|ya lo sé",
    time="mañana|pasado mañana|esta noche|pronto|próximo|próxima|lunes|martes|miércoles|"
    "jueves|viernes|sábado|domingo|semana|mes|tarde|noche|hora|horas|enero|febrero|marzo|"
    "abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|día|días|"
    "fin de semana",
    hedge="quizás|quizá|tal vez|a lo mejor|probablemente|creo|supongo|no estoy seguro|"
    "no estoy segura|podría|debería|parece|no hay problema|sin problema|por qué no|"
    "normalmente|en principio|en teoría|ni idea|eh|mmm|hmm",
    retraction="olvídalo|olvídelo|olvida eso|en realidad|mejor no|es broma|era broma|broma|"
    "pensándolo bien|espera|espere|cancela|cancele|error|ups|corrección|"
    "retiro|ya no",
    delegation="pregunta|preguntar|pregúntale|consulta|consultar|consúltalo|habla con|"
    "hablar con|reenvía|reenviar|mi jefe|mi jefa|alguien|nadie|todos|decide|decidir",
    counter_offer="en lugar|en vez|mitad|a medias|parcial*|menos|más|máximo|mínimo|otro|otra|otros|"
    "cambiar|modificar|reducir|limit*|excepto",
    question="por qué|porqué|qué|cómo|quién|quiénes|cuál|cuáles|dónde|cuándo|cuánto|"
    "puedes|podrías|pregunta",
    question_anywhere="por qué|porqué|cuál|cuáles|cuánto|cuánta",
    sarcasm="sí claro|sí, claro|claro, claro|qué podría salir mal|buena suerte|qué gran idea|"
    "jaja|jajaja|lol",
    courtesy="hola|buenos días|buenas tardes|buenas|estimado|estimada|querido|querida|gracias|"
    "muchas gracias|mil gracias|por favor|saludos|un saludo|atentamente|cordialmente|"
    "un abrazo",
    neutral="buenos días|buenas tardes|buenas noches|buen día|buen fin de semana|hasta pronto|"
    "como acordamos|como hablamos|como quedamos|perdón por la demora|perdona el retraso|"
    "disculpa la demora|gracias por esperar|gracias por tu paciencia|un saludo",
    pronouns="yo|nosotros",
    alone="vale|ya",
)

PT = Language(
    code="pt",
    name="Portuguese",
    approve="sim|claro|claro que sim|com certeza|ok|aprovado|aprovada|aprovo|eu aprovo|"
    "autorizado|autorizo|pode seguir|pode prosseguir|prossiga|pode avançar|pode fazer|"
    "vai em frente|pode ir|confirmado|confirmo|aceito|de acordo|concordo|perfeito|está bem|"
    "tá bom|ta bom|beleza|fechado|combinado|pode sim|pode|sim obrigado|sim obrigada|certo|ótimo",
    reject="não|rejeitado|rejeitada|rejeito|recusado|recusada|recuso|negado|nego|não aprovado|"
    "não aprovo|não concordo|de jeito nenhum|nem pensar|não faça|não faça isso|não obrigado|"
    "não obrigada|cancelar|cancelado|nunca|jamais",
    negation="não|falso|nunca|jamais|nada|ninguém|nenhum|nenhuma|nem|sem|rejeit*|recus*|negad*",
    condition="necessário|exigido|se|mas|só|somente|apenas|exceto|salvo|desde que|contanto|enquanto|depois|antes|"
    "quando|porém|contudo|embora|primeiro|até|sob condição|então|senão|a menos|condiç*",
    deferral="algum dia|um dia|pendente|vou|vamos|verificar|verifico|olhar|vou ver|conferir|revisar|discutir|conversar|"
    "falar com|discut*|convers*|pensar|penso|aviso|esperar|espera|espere|adiar|mais tarde|preciso|tenho que",
    acknowledgement="anotado|recebido|entendido|visto|lido|ciente|registrado|obrigado pela "
    "informação|obrigada pela informação|eu sei",
    time="amanhã|depois de amanhã|hoje à noite|logo|em breve|próximo|próxima|segunda|terça|"
    "quarta|quinta|sexta|sábado|domingo|semana|mês|tarde|noite|hora|horas|janeiro|fevereiro|"
    "março|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro|dia|dias|"
    "fim de semana",
    hedge="talvez|provavelmente|acho|acho que|creio|suponho|não tenho certeza|poderia|deveria|"
    "parece|sem problema|sem problemas|por que não|normalmente|em princípio|em teoria|"
    "não sei|hmm",
    retraction="esquece|esqueça|esquece isso|na verdade|melhor não|é brincadeira|brincadeira|"
    "pensando bem|espera|espere|cancela|erro|ops|correção|retiro|"
    "não mais",
    delegation="pergunta|perguntar|pergunte|consulta|consultar|consulte|fala com|falar com|"
    "encaminha|encaminhar|meu chefe|minha chefe|alguém|ninguém|todos|decide|decidir",
    counter_offer="em vez|ao invés|metade|parcial*|menos|mais|máximo|mínimo|outro|outra|"
    "mudar|alterar|reduzir|limit*|exceto",
    question="por que|porque|porquê|o que|que|como|quem|qual|quais|onde|quando|quanto|pergunta",
    question_anywhere="por que|porquê|qual|quais|quanto",
    sarcasm="claro, claro|sim, claro|o que pode dar errado|boa sorte|que ótima ideia|kkk|"
    "kkkk|haha|rsrs|lol",
    courtesy="olá|oi|bom dia|boa tarde|boa noite|prezado|prezada|caro|cara|obrigado|obrigada|"
    "muito obrigado|muito obrigada|valeu|por favor|abraço|abraços|atenciosamente|"
    "cumprimentos|att",
    neutral="bom dia|boa tarde|boa noite|bom fim de semana|até breve|até logo|"
    "como combinado|como conversamos|desculpe a demora|desculpa a demora|"
    "obrigado por esperar|obrigada por esperar|obrigado pela paciência",
    pronouns="eu|nós",
)

IT = Language(
    code="it",
    name="Italian",
    approve="sì|certo|certamente|ok|va bene|approvato|approvata|approvo|lo approvo|"
    "autorizzato|autorizzo|procedi|procedete|procedi pure|vai|vai pure|vai avanti|confermato|"
    "confermo|accettato|accetto|d'accordo|perfetto|benissimo|ottimo|fallo|fai pure|"
    "assolutamente|volentieri|sì grazie|sì certo|d'accordissimo",
    reject="no|respinto|respinta|respingo|rifiutato|rifiutata|rifiuto|negato|non approvato|"
    "non approvo|non sono d'accordo|assolutamente no|per niente|non farlo|no grazie|"
    "annullato|annulla|fermo|ferma|mai",
    negation="non|falso|mai|nessuno|nessuna|niente|nulla|né|senza|neanche|nemmeno|neppure|"
    "respin*|rifiut*|annull*|viet*",
    condition="richiesto|richiesta|necessario|se|ma|solo|soltanto|solamente|tranne|salvo|purché|a patto|finché|dopo|prima|"
    "quando|però|tuttavia|sebbene|anche se|fino|poi|allora|altrimenti|a meno|condizion*",
    deferral="prima o poi|un giorno|in sospeso|verifico|controllo|controllare|guardo|guarderò|verificare|discutere|parlare|"
    "ne parlo|discut*|pensarci|ci penso|ti faccio sapere|vi faccio sapere|aspetta|aspettate|"
    "aspettare|rimandare|rinviare|più tardi|devo|bisogna",
    acknowledgement="preso nota|ricevuto|capito|visto|letto|inteso|grazie per l'informazione|lo so",
    time="domani|dopodomani|stasera|presto|prossimo|prossima|lunedì|martedì|mercoledì|giovedì|"
    "venerdì|sabato|domenica|settimana|mese|pomeriggio|sera|ore|ora|gennaio|febbraio|marzo|"
    "aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre|giorno|giorni|"
    "fine settimana|weekend",
    hedge="forse|magari|probabilmente|penso|credo|suppongo|non sono sicuro|non sono sicura|"
    "potrebbe|dovrebbe|sembra|nessun problema|perché no|normalmente|in linea di principio|"
    "in teoria|boh|mah|ehm|hmm",
    retraction="lascia perdere|lasciate perdere|lascia stare|anzi|anzi no|scherzavo|scherzo|"
    "ripensandoci|meglio di no|aspetta|aspettate|annulla|errore|ops|correzione|"
    "ritiro|non più",
    delegation="chiedi|chiedere|chiedete|senti|sentire|consulta|consultare|parla con|"
    "parlare con|inoltra|inoltrare|il mio capo|la mia responsabile|il mio responsabile|"
    "qualcuno|nessuno|tutti|decide|decidere",
    counter_offer="invece|piuttosto|metà|parzial*|meno|più|massimo|minimo|altro|altra|"
    "cambiare|modificare|ridurre|limit*|tranne",
    question="perché|cosa|che cosa|come|chi|quale|quali|dove|quando|quanto|puoi|potresti|domanda",
    question_anywhere="quale|quali|quanto",
    sarcasm="sì, certo|sì certo certo|certo, certo|cosa potrebbe andare storto|buona fortuna|"
    "che bella idea|ahah|ahahah|haha|lol",
    courtesy="ciao|salve|buongiorno|buonasera|caro|cara|gentile|grazie|grazie mille|"
    "per favore|per cortesia|saluti|cordiali saluti|distinti saluti|un saluto",
    neutral="buongiorno|buonasera|buona giornata|buona serata|buon fine settimana|a presto|"
    "come concordato|come d'accordo|come discusso|scusa il ritardo|scusate il ritardo|"
    "grazie per l'attesa|grazie per la pazienza",
    pronouns="io|noi",
    alone="prima|si",
)

NL = Language(
    code="nl",
    name="Dutch",
    approve="ja|jazeker|ja hoor|jawel|ok|oké|oke|akkoord|goedgekeurd|ik keur het goed|"
    "keur goed|goed|is goed|dat is goed|in orde|ga je gang|ga maar|doe maar|ga door|"
    "bevestigd|ik ga akkoord|geaccepteerd|zeker|natuurlijk|uitstekend|top|helemaal goed|"
    "klinkt goed|ziet er goed uit|ja graag|graag|prima zo",
    reject="nee|neen|nee hoor|afgewezen|ik wijs af|afgekeurd|ik keur het af|keur af|"
    "niet akkoord|niet goedgekeurd|ik ga niet akkoord|geen sprake van|zeker niet|"
    "absoluut niet|niet doen|nee dank je|nee bedankt|stop|annuleren|nooit",
    negation="niet|onwaar|geen|nooit|niets|niks|niemand|nee|zonder|noch|afgewez*|afwijz*|afkeur*|"
    "afgekeurd|weiger*|annuler*|verbied*|verbod*",
    condition="vereist|nodig|als|indien|mits|maar|alleen|behalve|tenzij|zolang|zodra|nadat|voordat|eerst|"
    "wanneer|echter|hoewel|tot|dan|anders|pas",
    deferral="ooit|ik ga|we gaan|ik kijk|kijk|bekijk|bekijken|controleer|controleren|overleg*|bespreek*|"
    "overleggen|bespreken|bespreek|nadenken|denk erover|laat weten|wacht|wachten|uitstellen|"
    "later|straks|moet|moeten",
    acknowledgement="genoteerd|ontvangen|begrepen|gezien|gelezen|noted|bedankt voor de info|"
    "dank voor de info|weet ik|ik weet het",
    time="morgen|overmorgen|vanavond|binnenkort|volgende|maandag|dinsdag|woensdag|donderdag|"
    "vrijdag|zaterdag|zondag|weekend|week|maand|middag|avond|uur|januari|februari|maart|mei|"
    "juni|juli|augustus|oktober|dag|dagen",
    hedge="misschien|wellicht|mogelijk|waarschijnlijk|ik denk|denk ik|ik geloof|volgens mij|"
    "niet zeker|onzeker|zou|zouden|kan|lijkt|geen probleem|geen bezwaar|waarom niet|"
    "normaal|in principe|in theorie|geen idee|hmm|tja",
    retraction="laat maar|vergeet het|vergeet dat|wacht even|grapje|geintje|toch niet|"
    "liever niet|eigenlijk|fout|oeps|correctie|ik trek|niet meer|annuleer",
    delegation="vraag|vragen|overleg met|check bij|navragen|doorsturen|stuur door|mijn baas|"
    "mijn manager|mijn leidinggevende|iemand|niemand|iedereen|beslist|beslissen",
    counter_offer="in plaats|liever|half|helft|gedeeltelijk|minder|meer|maximaal|minimaal|"
    "ander|andere|wijzig*|aanpassen|verlag*|limiet*|behalve",
    question="waarom|wat|hoe|wie|welke|waar|wanneer|hoeveel|kun je|kunt u|vraag",
    question_anywhere="waarom|welke|hoeveel",
    sarcasm="ja hoor, tuurlijk|ja ja|jaja|tuurlijk joh|wat kan er misgaan|succes ermee|"
    "goed idee joh|haha|lol",
    courtesy="hallo|hoi|hey|beste|geachte|goedemorgen|goedemiddag|goedenavond|dank je|"
    "dank u|dankjewel|bedankt|alvast bedankt|alsjeblieft|alstublieft|graag|groet|groeten|"
    "met vriendelijke groet|vriendelijke groet|mvg|groetjes|gr",
    neutral="goedemorgen|goede morgen|goedemiddag|goedenavond|fijne dag|fijn weekend|"
    "tot snel|zoals besproken|zoals afgesproken|sorry voor de vertraging|"
    "excuses voor de vertraging|bedankt voor het wachten|met vriendelijke groet",
    pronouns="ik|wij|we",
)

PL = Language(
    code="pl",
    name="Polish",
    approve="zatwierdzam|zatwierdzone|zatwierdzony|zatwierdzona|akceptuję|zaakceptowane|"
    "zgoda|zgadzam się|ok|okej|dobrze|dobra|w porządku|jasne|oczywiście|pewnie|potwierdzam|"
    "potwierdzone|działaj|śmiało|rób|zrób to|można|super|świetnie|tak jest|tak zatwierdzam|"
    "tak, zatwierdzam|tak, zgoda|tak, akceptuję|tak proszę",
    reject="nie|odrzucam|odrzucone|odrzucony|odmawiam|odmowa|nie zatwierdzam|nie zgadzam się|"
    "nie akceptuję|nie zgoda|w żadnym wypadku|absolutnie nie|nie rób tego|nie, dziękuję|"
    "anuluj|nigdy",
    negation="nie|fałsz|nigdy|nic|nikt|żaden|żadna|żadne|bez|ani|nie*|odrzuc*|odmaw*|odmów*|anul*|zabr*",
    condition="wymagane|wymagany|jeśli|jeżeli|gdyby|ale|lecz|tylko|jedynie|oprócz|poza|pod warunkiem|o ile|"
    "dopóki|gdy|kiedy|po|przed|najpierw|jednak|chociaż|aż|potem|wtedy|inaczej",
    deferral="kiedyś|sprawdzę|sprawdzić|zobaczę|przejrzę|przemyślę|pomyślę|omówię|porozmawiam|"
    "skonsultuję|omawi*|omówi*|dam znać|poczekaj|czekaj|poczekać|odłóż|przełóż|później|muszę|trzeba",
    acknowledgement="odnotowane|otrzymałem|otrzymałam|otrzymane|zrozumiałem|zrozumiałam|"
    "rozumiem|przyjąłem do wiadomości|przyjęłam do wiadomości|widziałem|widziałam|"
    "dzięki za info|wiem",
    time="jutro|pojutrze|wieczorem|wkrótce|niedługo|następny|następnym|następna|poniedziałek|"
    "wtorek|środa|środę|czwartek|piątek|sobota|sobotę|niedziela|niedzielę|tydzień|tygodniu|"
    "miesiąc|miesiącu|godzin*|dzień|dni|weekend",
    hedge="może|chyba|prawdopodobnie|raczej|myślę|sądzę|nie jestem pewien|nie jestem pewna|"
    "mógłby|powinien|wydaje się|nie ma problemu|bez problemu|czemu nie|normalnie|"
    "w zasadzie|teoretycznie|nie wiem|no dobra|no tak|hmm",
    retraction="nieważne|zapomnij|żartuję|żartowałem|żartowałam|jednak nie|czekaj|poczekaj|"
    "anuluj|błąd|pomyłka|ups|korekta|cofam|już nie",
    delegation="zapytaj|zapytać|spytaj|skonsultuj|porozmawiaj z|przekaż|przekazać|mój szef|"
    "moja szefowa|kierownik|ktoś|nikt|wszyscy|zdecyduje|decyduje",
    counter_offer="zamiast|raczej|połowa|połowę|częściowo|mniej|więcej|maksymalnie|"
    "minimalnie|inny|inna|inne|zmień|zmienić|zmniejsz*|limit*|oprócz",
    question="dlaczego|czemu|co|jak|kto|który|która|które|gdzie|kiedy|ile|czy|pytanie",
    question_anywhere="dlaczego|czemu|który|która|które|ile|czy",
    sarcasm="tak, jasne|jasne, jasne|co może pójść nie tak|powodzenia|świetny pomysł|haha|lol",
    courtesy="cześć|witam|dzień dobry|szanowny|szanowna|drogi|droga|dzięki|dziękuję|"
    "dziękuję bardzo|proszę|pozdrawiam|pozdrowienia|z poważaniem|serdecznie|tak",
    neutral="dzień dobry|dobry wieczór|miłego dnia|miłego weekendu|do usłyszenia|"
    "jak ustaliliśmy|jak uzgodniliśmy|przepraszam za opóźnienie|dzięki za cierpliwość",
    pronouns="ja|my",
)

SV = Language(
    code="sv",
    name="Swedish",
    approve="ja|japp|jajamen|ok|okej|godkänd|godkänt|godkänner|jag godkänner|godkänns|kör|"
    "kör på|kör bara|varsågod|det går bra|går bra|absolut|självklart|visst|javisst|bekräftat|"
    "bekräftar|accepterat|accepterar|instämmer|håller med|låter bra|ser bra ut|perfekt|"
    "toppen|fint|ja tack|gärna",
    reject="nej|nä|nej tack|avslås|avslaget|avslag|avvisad|avvisat|avvisar|jag avvisar|nekad|"
    "nekat|nekar|inte godkänd|inte godkänt|godkänner inte|jag godkänner inte|absolut inte|"
    "inte alls|gör det inte|stopp|avbryt|aldrig",
    negation="inte|falskt|ej|icke|aldrig|ingen|inget|inga|ingenting|nej|utan|varken|avslå*|avvis*|"
    "neka*|ogodkän*|avbr*|förbj*",
    condition="krävs|om|ifall|men|bara|endast|förutom|utom|förutsatt|så länge|när|efter|innan|"
    "först|dock|fast|tills|sedan|annars",
    deferral="någon gång|ska kolla|kollar|kolla|titta|tittar|granska|granskar|kontrollera|diskuter*|"
    "pratar med|prata med|tänka|tänker|fundera|funderar|återkommer|vänta|väntar|skjuta upp|"
    "senare|måste|behöver",
    acknowledgement="noterat|mottaget|fått|förstått|uppfattat|sett|läst|tack för infon|vet",
    time="imorgon|i morgon|i övermorgon|ikväll|i kväll|snart|nästa|måndag|tisdag|onsdag|"
    "torsdag|fredag|lördag|söndag|helgen|vecka|veckan|månad|eftermiddag|kväll|klockan|"
    "timme|timmar|dag|dagar",
    hedge="kanske|möjligen|troligen|förmodligen|jag tror|tror jag|jag antar|inte säker|osäker|"
    "skulle|borde|verkar|inga problem|inget problem|varför inte|normalt|i princip|"
    "i teorin|ingen aning|hmm",
    retraction="glöm det|strunta i det|skämtar bara|skämt|förresten|egentligen|vänta|"
    "fel|hoppsan|rättelse|ångrar|inte längre",
    delegation="fråga|frågar|stäm av med|kolla med|prata med|vidarebefordra|min chef|chefen|"
    "någon|ingen|alla|bestämmer|besluta",
    counter_offer="istället|i stället|hellre|hälften|halva|delvis|mindre|mer|högst|max|minst|"
    "annan|annat|andra|ändra|minska|begränsa*",
    question="varför|vad|hur|vem|vilken|vilket|vilka|var|när|hur mycket|kan du|kan ni|fråga",
    question_anywhere="varför|vilken|vilket|vilka",
    sarcasm="ja, visst|visst, visst|vad kan gå fel|lycka till|vilken bra idé|haha|lol",
    courtesy="hej|hallå|hejsan|god morgon|tack|tack så mycket|tusen tack|stort tack|snälla|"
    "vänligen|hälsningar|med vänlig hälsning|vänliga hälsningar|mvh|tack tack",
    neutral="god morgon|god kväll|ha en bra dag|trevlig helg|vi hörs|som vi pratade om|"
    "som överenskommet|ursäkta dröjsmålet|tack för tålamodet|med vänlig hälsning",
    pronouns="jag|vi",
)

DA = Language(
    code="da",
    name="Danish",
    approve="ja|jep|jo|ok|okay|godkendt|godkender|jeg godkender|accepteret|accepterer|fint|"
    "det er fint|fint med mig|i orden|det er i orden|kør|bare kør|gå bare i gang|bekræftet|"
    "bekræfter|enig|jeg er enig|absolut|selvfølgelig|klart|perfekt|lyder godt|ser godt ud|"
    "ja tak|gerne",
    reject="nej|nej tak|afvist|afviser|jeg afviser|afslået|afslag|ikke godkendt|"
    "godkender ikke|jeg godkender ikke|absolut ikke|slet ikke|lad være|gør det ikke|stop|"
    "annuller|aldrig",
    negation="ikke|falsk|ej|aldrig|ingen|intet|ingenting|nej|uden|hverken|afvis*|afslå*|afslag",
    condition="hvis|men|kun|bare|undtagen|forudsat|så længe|når|efter|inden|før|først|dog|"
    "selvom|indtil|ellers",
    deferral="kigger|kigge|tjekker|tjekke|undersøge|undersøger|diskuter*|snakker med|"
    "tale med|tænke|tænker|overveje|overvejer|vender tilbage|vent|vente|venter|udskyd*|"
    "senere",
    acknowledgement="noteret|modtaget|forstået|set|læst|tak for info|tak for infoen|ved det",
    time="i morgen|imorgen|i overmorgen|i aften|snart|næste|mandag|tirsdag|onsdag|torsdag|"
    "fredag|lørdag|søndag|weekend|uge|ugen|måned|eftermiddag|aften|klokken|time|timer|dag|"
    "dage",
    hedge="måske|muligvis|sandsynligvis|nok|jeg tror|tror jeg|jeg går ud fra|ikke sikker|"
    "usikker|skulle|burde|virker|intet problem|ingen problemer|hvorfor ikke|normalt|"
    "i princippet|i teorien|aner det ikke|hmm",
    retraction="glem det|for sjov|bare for sjov|faktisk|egentlig|vent|forkert|"
    "fejl|ups|rettelse|fortryder|ikke længere",
    delegation="spørg|spørge|tjek med|tal med|videresend|min chef|chefen|nogen|ingen|alle|"
    "beslutter|bestemmer",
    counter_offer="i stedet|hellere|halvdelen|halvt|delvis|mindre|mere|højst|maks|mindst|"
    "anden|andet|andre|ændr*|reducer*|begræns*",
    question="hvorfor|hvad|hvordan|hvem|hvilken|hvilket|hvilke|hvor|hvornår|kan du|kan i|spørgsmål",
    question_anywhere="hvorfor|hvilken|hvilket|hvilke",
    sarcasm="ja ja|jaja|ja, sikkert|hvad kan gå galt|held og lykke|sikke en god idé|haha|lol",
    courtesy="hej|hejsa|kære|godmorgen|god morgen|tak|mange tak|tusind tak|tak skal du have|"
    "venligst|hilsen|venlig hilsen|med venlig hilsen|mvh|vh|de bedste hilsner",
    neutral="god morgen|godmorgen|god dag|god weekend|hav en god dag|vi ses|som aftalt|"
    "som vi talte om|undskyld forsinkelsen|tak for tålmodigheden|med venlig hilsen",
    pronouns="jeg|vi",
)

NO = Language(
    code="no",
    name="Norwegian",
    approve="ja|jepp|jo|ok|okei|godkjent|godkjenner|jeg godkjenner|akseptert|aksepterer|greit|"
    "det er greit|fint|helt fint|i orden|det er i orden|kjør|bare kjør|kjør på|sett i gang|"
    "bekreftet|bekrefter|enig|jeg er enig|absolutt|selvfølgelig|klart|perfekt|høres bra ut|"
    "ser bra ut|ja takk|gjerne",
    reject="nei|nei takk|avvist|avviser|jeg avviser|avslått|avslag|ikke godkjent|"
    "godkjenner ikke|jeg godkjenner ikke|absolutt ikke|slett ikke|la være|ikke gjør det|"
    "stopp|avbryt|aldri",
    negation="ikke|usant|ei|aldri|ingen|ingenting|intet|nei|uten|verken|avvis*|avslå*|avslag",
    condition="hvis|dersom|men|bare|kun|unntatt|forutsatt|så lenge|når|etter|før|først|"
    "likevel|selv om|inntil|ellers",
    deferral="ser på|sjekker|sjekke|kikke|kikker|undersøke|undersøker|diskuter*|snakker med|"
    "snakke med|tenke|tenker|vurdere|vurderer|kommer tilbake|vent|vente|venter|utsett*|"
    "senere",
    acknowledgement="notert|mottatt|forstått|sett|lest|oppfattet|takk for info|takk for "
    "infoen|vet det",
    time="i morgen|imorgen|i overmorgen|i kveld|snart|neste|mandag|tirsdag|onsdag|torsdag|"
    "fredag|lørdag|søndag|helgen|uke|uka|måned|ettermiddag|kveld|klokken|time|timer|dag|"
    "dager",
    hedge="kanskje|muligens|sannsynligvis|nok|jeg tror|tror jeg|jeg antar|ikke sikker|usikker|"
    "skulle|burde|virker|ikke noe problem|ingen problem|hvorfor ikke|normalt|i prinsippet|"
    "i teorien|aner ikke|hmm",
    retraction="glem det|bare tull|tull|faktisk|egentlig|vent|feil|oi|rettelse|angrer|ikke lenger",
    delegation="spør|spørre|sjekk med|snakk med|videresend|sjefen min|min sjef|sjefen|noen|"
    "ingen|alle|bestemmer|avgjør",
    counter_offer="i stedet|heller|halvparten|halvt|delvis|mindre|mer|høyst|maks|minst|annen|"
    "annet|andre|endre|reduser*|begrens*",
    question="hvorfor|hva|hvordan|hvem|hvilken|hvilket|hvilke|hvor|når|kan du|kan dere|spørsmål",
    question_anywhere="hvorfor|hvilken|hvilket|hvilke",
    sarcasm="ja ja|jaja|ja, sikkert|hva kan gå galt|lykke til|for en god idé|haha|lol",
    courtesy="hei|hallo|heisann|kjære|god morgen|takk|tusen takk|mange takk|takk skal du ha|"
    "vennligst|hilsen|vennlig hilsen|med vennlig hilsen|mvh",
    neutral="god morgen|god dag|god helg|ha en fin dag|snakkes|som avtalt|som vi snakket om|"
    "beklager forsinkelsen|takk for tålmodigheten|med vennlig hilsen",
    pronouns="jeg|vi",
)

RU = Language(
    code="ru",
    name="Russian",
    approve="да|одобряю|одобрено|одобрена|утверждаю|утверждено|согласен|согласна|согласовано|"
    "хорошо|ок|окей|ладно|конечно|разумеется|подтверждаю|подтверждено|разрешаю|разрешено|"
    "действуй|действуйте|вперёд|вперед|давай|давайте|делай|делайте|можно|выполняй|"
    "выполняйте|отлично|супер|годится|идёт",
    reject="нет|отклонено|отклоняю|отказано|отказываю|отказ|не одобряю|не одобрено|"
    "не согласен|не согласна|ни в коем случае|ни за что|не надо|не делай|не делайте|нельзя|"
    "стоп|отмена|отменить|запрещаю|никогда",
    negation="не|ложь|нет|ни|никогда|ничего|никто|ничто|нельзя|без|не*|ни*|отклон*|отказ*|"
    "запрещ*|отмен*",
    condition="требуется|необходимо|если|но|только|кроме|при условии|пока|когда|после|перед|до|сначала|однако|"
    "хотя|потом|тогда|иначе|а то",
    deferral="когда-нибудь|посмотрю|проверю|проверить|обсужу|обсудим|обсудить|подумаю|подумать|сообщу|"
    "вернусь|обсу*|подожди|подождите|ждите|отложи|отложим|отложить|позже|надо|нужно|должен",
    acknowledgement="принято|получил|получила|получено|понял|поняла|понятно|видел|видела|"
    "прочитал|прочитала|к сведению|ясно|спасибо за информацию|знаю",
    time="завтра|послезавтра|вечером|скоро|следующ*|понедельник|вторник|среду|среда|четверг|"
    "пятницу|пятница|субботу|суббота|воскресенье|недел*|месяц*|вечер*|утром|час|часа|"
    "часов|день|дня|дней|выходные",
    hedge="может|может быть|возможно|наверное|вероятно|думаю|кажется|полагаю|не уверен|"
    "не уверена|мог бы|должно быть|вроде|без проблем|почему бы и нет|обычно|в принципе|"
    "теоретически|не знаю|так себе|хм|ну",
    retraction="неважно|не важно|забудь|забудьте|подожди|подождите|стоп|шучу|шутка|"
    "передумал|передумала|вообще-то|на самом деле|ошибка|ой|поправка|"
    "отменяю|уже нет",
    delegation="спроси|спросите|спросить|уточни|уточните|согласуй|согласуйте|переговори|"
    "перешли|перешлите|мой начальник|начальник|руководитель|кто-то|кто-нибудь|никто|все|"
    "решит|решать",
    counter_offer="вместо|лучше|половин*|частично|меньше|больше|максимум|минимум|друг*|"
    "измен*|уменьш*|огранич*|кроме",
    question="почему|зачем|что|как|кто|какой|какая|какие|где|когда|сколько|ли|вопрос",
    question_anywhere="почему|зачем|какой|какая|какие|сколько|ли",
    sarcasm="ага, конечно|ну да, конечно|конечно-конечно|да-да|ну-ну|что может пойти не так|"
    "удачи|отличная идея|ха-ха|хаха|лол",
    courtesy="привет|здравствуйте|добрый день|добрый вечер|доброе утро|уважаемый|уважаемая|"
    "спасибо|спасибо большое|большое спасибо|пожалуйста|с уважением|всего доброго|"
    "всего хорошего",
    neutral="до свидания|добрый день|добрый вечер|доброе утро|хорошего дня|хороших выходных|до связи|"
    "как договаривались|как договорились|как обсуждали|извините за задержку|"
    "спасибо за ожидание|спасибо за терпение|с уважением|всего доброго|всего хорошего",
    pronouns="я|мы",
)

UK = Language(
    code="uk",
    name="Ukrainian",
    approve="так|схвалюю|схвалено|затверджую|затверджено|згоден|згодна|погоджую|погоджено|"
    "добре|гаразд|ок|окей|звісно|звичайно|підтверджую|підтверджено|дозволяю|дозволено|"
    "дійте|дій|вперед|давай|давайте|робіть|роби|можна|виконуйте|чудово|відмінно|супер|"
    "так, схвалюю|так, звісно",
    reject="ні|відхилено|відхиляю|відмовлено|відмовляю|відмова|не схвалюю|не схвалено|"
    "не згоден|не згодна|в жодному разі|ні в якому разі|не треба|не робіть|не роби|"
    "не можна|стоп|скасувати|забороняю|ніколи",
    negation="не|хибно|ні|ніколи|нічого|ніхто|ніщо|без|нема|немає|не*|ні*|відхил*|відмов*|"
    "заборон*|скасу*",
    condition="якщо|але|тільки|лише|крім|за умови|поки|коли|після|перед|до|спочатку|однак|"
    "хоча|потім|тоді|інакше",
    deferral="подивлюсь|подивлюся|перевірю|перевірити|обговорю|обговоримо|обговорити|подумаю|"
    "подумати|повідомлю|повернуся|обговор*|зачекай|зачекайте|почекай|почекайте|відклади|відкладемо|"
    "пізніше|треба|потрібно",
    acknowledgement="отримав|отримала|отримано|зрозумів|зрозуміла|зрозуміло|прийнято|бачив|"
    "бачила|прочитав|прочитала|до відома|ясно|дякую за інформацію|знаю",
    time="завтра|післязавтра|ввечері|скоро|наступн*|понеділок|вівторок|середу|середа|четвер|"
    "п'ятницю|п'ятниця|суботу|субота|неділю|неділя|тижд*|місяц*|вечор*|вранці|годин*|"
    "день|дня|днів|вихідні",
    hedge="може|можливо|мабуть|напевно|ймовірно|думаю|здається|гадаю|не впевнений|"
    "не впевнена|міг би|має бути|наче|без проблем|чому б і ні|зазвичай|в принципі|"
    "теоретично|не знаю|так собі|хм|ну",
    retraction="неважливо|не важливо|забудь|забудьте|зачекай|зачекайте|стоп|жартую|жарт|"
    "передумав|передумала|взагалі-то|насправді|помилка|ой|поправка|"
    "скасовую|вже ні",
    delegation="спитай|спитайте|запитай|запитайте|уточни|уточніть|погодь|погодьте|перешли|"
    "перешліть|мій керівник|керівник|начальник|хтось|ніхто|всі|вирішить|вирішувати",
    counter_offer="замість|краще|половин*|частково|менше|більше|максимум|мінімум|інш*|змін*|"
    "зменш*|обмеж*|крім",
    question="чому|навіщо|що|як|хто|який|яка|які|де|коли|скільки|чи|питання",
    question_anywhere="чому|навіщо|який|яка|які|скільки|чи",
    sarcasm="ага, звісно|ну так, звісно|так-так|ну-ну|що може піти не так|удачі|чудова ідея|"
    "ха-ха|хаха|лол",
    courtesy="привіт|вітаю|добрий день|добрий вечір|доброго ранку|шановний|шановна|дякую|"
    "щиро дякую|дуже дякую|будь ласка|з повагою|всього найкращого",
    neutral="добрий день|добрий вечір|доброго ранку|гарного дня|гарних вихідних|на зв'язку|"
    "як домовлялися|як обговорювали|вибачте за затримку|дякую за очікування|"
    "дякую за терпіння|з повагою|всього найкращого",
    pronouns="я|ми",
)

ZH = Language(
    code="zh",
    name="Chinese",
    approve="是|是的|对|對|好|好的|好啊|行|可以|同意|我同意|批准|批准了|准了|通过|通過|确认|"
    "確認|确定|確定|继续|繼續|请继续|請繼續|执行|執行|去做吧|做吧|当然|當然|赞成|贊成|接受|"
    "ok|好的谢谢|同意谢谢",
    reject="不|不行|不可以|不同意|我不同意|不批准|否|拒绝|拒絕|驳回|駁回|否决|否決|不要|别|別|"
    "不用|取消",
    negation="假|不|没|沒|别|別|未|非|无|無|否|勿|莫|拒|驳|駁",
    condition="如果|假如|要是|但是|但|可是|不过|不過|只要|只有|除非|除了|之后|之後|以后|以後|"
    "之前|先|前提|条件|條件|然后|然後|否则|否則|等到",
    deferral="看一下|看看|再看|再说|再說|考虑|考慮|讨论|討論|商量|研究|检查|檢查|确认一下|"
    "確認一下|等|稍等|回头|回頭|推迟|推遲|延后|延後|晚点|晚點|稍后|稍後|需要|要先",
    acknowledgement="收到|知道了|知道|了解|明白|看到了|已阅|已閱|已读|已讀|懂了",
    time="明天|后天|後天|今晚|下周|下週|下星期|下个|下個|星期|周一|周二|周三|周四|周五|周六|"
    "周日|週|月|号|號|点|點|晚上|下午|上午|早上|小时|小時|天",
    hedge="也许|也許|可能|大概|应该|應該|好像|似乎|我觉得|我覺得|我想|不确定|不確定|说不定|"
    "說不定|或许|或許|嗯|呃",
    retraction="算了|等等|等一下|开玩笑|開玩笑|不要了|撤回|其实|其實|错了|錯了|更正",
    delegation="问|問|请示|請示|找|转给|轉給|老板|老闆|领导|領導|经理|經理|有人|没人|沒人|"
    "大家|决定|決定",
    counter_offer="改成|换成|換成|而是|一半|部分|少|多|最多|最少|其他|别的|別的|改|降|减|減|限",
    question="吗|嗎|呢|为什么|為什麼|什么|什麼|怎么|怎麼|谁|誰|哪|几|幾|多少",
    sarcasm="呵呵|哈哈|真是好主意|祝你好运|祝你好運|能出什么错|能出什麼錯",
    courtesy="你好|您好|谢谢|謝謝|多谢|多謝|感谢|感謝|请|請|辛苦了|此致|敬礼|敬禮",
    neutral="辛苦了|此致|敬礼|敬禮|早上好|下午好|晚上好|周末愉快|週末愉快",
    spaced=False,
)

JA = Language(
    code="ja",
    name="Japanese",
    approve="はい|ええ|うん|承認|承認します|承認しました|了承しました|許可します|許可|"
    "同意します|同意|進めてください|進めて下さい|進めて|お願いします|どうぞ|オッケー|"
    "ok|okです|実行してください|実行して|承認いたします|はい承認します",
    reject="いいえ|いや|却下|却下します|拒否|拒否します|不承認|承認しません|承認できません|"
    "ダメ|だめ|ダメです|だめです|やめてください|止めて|中止|キャンセル",
    negation="ない|ません|ず|ぬ|いいえ|だめ|ダメ|無理|不|未|否|なし|ないで|やめ|止め|却下|拒否",
    condition="もし|たら|なら|ただし|但し|でも|けど|けれど|場合|条件|前に|まず|次第|ば|"
    "その後|それから|のみ|だけ",
    deferral="確認します|検討|見てみ|見ておき|相談|考え|後ほど|待って|保留|延期|調べ|"
    "確認して|確認させ|してから|必要",
    acknowledgement="了解|承知|拝見|受け取り|受領|確認しました|把握|わかりました|分かりました|"
    "見ました|読みました|知って",
    time="明日|あした|明後日|後で|あとで|来週|今度|月曜|火曜|水曜|木曜|金曜|土曜|日曜|曜日|"
    "時|午後|午前|夜|今夜|週末|月|日|時間|夕方|朝",
    hedge="たぶん|多分|かも|おそらく|恐らく|思います|と思う|気がします|わからない|わかりません|"
    "微妙|一応|うーん|えーと|まあ",
    retraction="やっぱり|やはり|待って|冗談|取り消し|取消|撤回|実は|間違|訂正|なしで",
    delegation="聞いて|聞く|確認を取|相談して|上司|部長|課長|マネージャー|誰か|誰も|皆|決めて|判断",
    counter_offer="代わりに|半分|一部|少な|多め|最大|最小|他の|別の|変更|減ら|制限|以外",
    question="ですか|ますか|なぜ|何|なに|どう|誰|どこ|いつ|どれ|いくら|でしょうか",
    sarcasm="笑|www|ははは|さすが|いい考えですね|何が問題",
    courtesy="こんにちは|お疲れ様です|お疲れさまです|ありがとう|ありがとうございます|"
    "よろしく|よろしくお願いします|宜しく|宜しくお願いします|様|さん|お願いいたします",
    neutral="お疲れ様です|お疲れさまです|よろしくお願いします|よろしくお願いいたします|"
    "宜しくお願いします|おはようございます|こんばんは",
    spaced=False,
)

LANGUAGES: tuple[Language, ...] = (EN, DE, FR, ES, PT, IT, NL, PL, SV, DA, NO, RU, UK, ZH, JA)

# Signals that are not words of one language.
UNIVERSAL = {
    "reject": "👎|❌|✖|✗|✘|🚫|⛔|🛑|🙅|✋|🤚|🖐|⏹|⚠|❗|❕|⁉",
    "hedge": "🤔|🤷|😕|😬|😐|🫤",
    "sarcasm": "🙄|😒|🤦|😂|🤣|😏|🙃|😜|😉|🤡|💀",
    "deferral": "⏳|⌛|⏸|🕐|⏰",
    "question": "❓|❔|⁉|‽",
    "approve": "👍|✅|✔|☑|👌|🆗|🙆|💯",
}

# Words that mean "no", "not", "if", "but", "wait" or "tomorrow" in languages we do not support.
# A reply holding one is not read as a plain yes (a supported language is read whole or not).
FOREIGN = (
    "ei|älä|mutta|jos|huomenna|odota|ehkä|"  # fi
    "hayır|değil|yok|etme|ama|eğer|sonra|yarın|bekle|belki|"  # tr
    "nem|holnap|talán|várj|"  # hu
    "nesouhlasím|neschvaluji|pokud|jestli|zítra|počkej|možná|"  # cs
    "nesúhlasím|neschvaľujem|zajtra|počkaj|"  # sk
    "nu|dacă|mâine|poate|aștepta|"  # ro
    "tidak|jangan|bukan|belum|tapi|jika|kalau|besok|tunggu|mungkin|"  # id, ms
    "không|chưa|đừng|nhưng|nếu|ngày mai|"  # vi
    "nemoj|ako|sutra|možda|čekaj|"  # hr, sr, sl
    "hindi|pero|bukas|"  # tl
    "hapana|lakini|kesho|"  # sw
    "demà|però|potser"  # ca
)

# Greetings a reply may open with ("Hi Anna,"), in every supported language; ``|`` separates.
GREETINGS = (
    "hi|hello|hey|dear|hiya|hallo|moin|servus|liebe|lieber|sehr geehrte|sehr geehrter|bonjour|"
    "salut|bonsoir|cher|chère|coucou|hola|estimado|estimada|querido|querida|olá|oi|prezado|"
    "prezada|caro|cara|ciao|salve|gentile|hoi|beste|geachte|cześć|witam|szanowny|szanowna|"
    "drogi|droga|hej|hallå|hejsan|hejsa|kære|hei|heisann|kjære|привет|здравствуйте|уважаемый|"
    "уважаемая|привіт|вітаю|шановний|шановна|good morning|good afternoon|good evening|"
    "guten morgen|guten tag|guten abend|buenos días|buenas tardes|buenas|bom dia|boa tarde|"
    "buongiorno|buonasera|goedemorgen|goedemiddag|dzień dobry|god morgon|god morgen|godmorgen|"
    "добрый день|доброе утро|добрий день|доброго ранку|你好|您好|こんにちは|お疲れ様です"
)

# Thanks that may stand before the answer ("Thanks! Approved."): a regular-expression
# alternation (``obrigad[oa]``), not plain entries.
THANKS = (
    r"many thanks|thanks|thank you|thx|danke|vielen dank|merci|gracias|obrigad[oa]|"
    r"grazie|bedankt|dank je|dziękuję|dzięki|tack|takk|спасибо|дякую|谢谢|謝謝|ありがとう"
)
