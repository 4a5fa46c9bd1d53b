//! Detects a customer asking to be handed to a person ("can I talk to a human?").
//!
//! **Approach.** [`asks_for_human`] uses keyword and phrase matching, with no model and no network
//! call. The message is normalized first: lower-cased, accents stripped (so "opérateur", "operateur",
//! "möchte" and "mochte" are the same), English "n't" expanded to "not", and everything other than
//! letters and digits turned into word breaks. It is then split into clauses at `, ; . ! ? ¿ ¡ …`,
//! line breaks, and the words "but", "pero", "sino", "mais", "aber", "sondern" and "mas". Each
//! clause is checked against per-language phrase tables (English, Spanish, French, German,
//! Portuguese) such as *talk/speak to + a/the + (real/live) + human/person/agent/someone*,
//! *real person*, *get me a human*, *hablar con una persona*, *parler à un conseiller*,
//! *mit einem Menschen sprechen*, *falar com um atendente*. Matches are on whole words, so
//! "humane", "agenda", "personal" and "cooperator" never count. A short clause that is just
//! "human", "agent", "operator", "operador", "Kundenberater"… plus filler ("please", "por favor",
//! "svp", "bitte") counts too; on its own inside a longer sentence "operator"/"operador" does
//! not, because it usually means a phone carrier.
//!
//! **Negation.** A match does not count when a negation word of the same language ("not", "no",
//! "never", "don't"; "no", "nunca", "sin"; "ne", "pas", "jamais"; "nicht", "kein(en)", "ohne";
//! "não", "nem", "sem") appears within the four words before it in the same clause — so "I don't
//! need a human" and "je ne veux pas parler à un humain" are not requests — unless a bot word
//! ("bot", "robot", "IA", "KI"…) stands between the negation and the match ("I don't want a bot
//! get me a human"), or the negation sits next to an ability or "why" word ("why can't I talk
//! to a human?", "no puedo hablar con una persona", "warum kann ich nicht mit einem Menschen
//! sprechen"). German and Portuguese also honour a clause-final negation ("Einen Menschen
//! brauche ich nicht", "preciso de um atendente não").
//!
//! **Limits.** It reads words, not meaning: sarcasm, irony and indirect requests ("this bot is
//! useless", "I've asked three times already") are missed; so are other languages, typos and
//! misspellings ("humna", "reprensentative"), and most text-speak. Reported speech ("my customers
//! want to talk to a human") and questions such as "are you a real person?" count as requests.
//! Negation is a four-word window, so long-distance or double negation can be misread, and in a
//! sentence mixing languages only the negation words of the language that matched are seen.
//! Treat a `true` as a strong hint, and keep the explicit `human_requested` flag for callers that
//! know better.

use std::collections::HashMap;
use std::sync::LazyLock;

#[cfg(test)]
thread_local! {
    /// Matcher steps taken on this thread, so a test can show the work grows linearly with the input.
    static STEPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts `n` matcher steps (tests only; nothing in release builds).
#[inline]
fn step(n: usize) {
    #[cfg(test)]
    STEPS.with(|steps| steps.set(steps.get() + n));
    #[cfg(not(test))]
    let _ = n;
}

/// Whether `text` asks for a human: any clause matches a phrase of a supported language and is
/// not negated. See the module documentation for the approach and its limits.
pub fn asks_for_human(text: &str) -> bool {
    let lexicons = &*LEXICONS;
    normalize(text).iter().any(|clause| {
        let tokens: Vec<&str> = clause.iter().map(String::as_str).collect();
        lexicons.iter().any(|lexicon| lexicon.requests_human(&tokens))
    })
}

// ---------------------------------------------------------------------------------------------
// Phrase tables: one `Language` per language, all words already normalized (lower-case ASCII).
//
// Phrase syntax: words separated by spaces, each a set of alternatives separated by `|`;
// `$name` stands for the words of the language's class `name`; a trailing `?` makes the word
// optional, a trailing `*` lets it repeat any number of times (including zero).
// ---------------------------------------------------------------------------------------------

struct Language {
    code: &'static str,
    /// Word classes used in `phrases` as `$name`, each written `"name: word word …"`.
    classes: &'static [&'static str],
    phrases: &'static [&'static str],
    /// Words that alone (with only `fillers` around them) make a clause a request: "Human please!".
    standalone: &'static str,
    fillers: &'static str,
    negators: &'static str,
    /// Words that, within two words of a negator, make it about ability or a "why" question.
    neutralizers: &'static str,
    /// Negators that are only an interjection when they open the clause before one of
    /// `interjection_followers` ("No I want a human").
    interjections: &'static str,
    interjection_followers: &'static str,
    /// Words that, between a negator and the match, show the negation is about something else.
    redirects: &'static str,
    /// Words just before a match that make it a self-description ("I'm a real person").
    self_reference: &'static str,
    /// A negator ending the clause negates it ("Einen Menschen brauche ich nicht").
    trailing_negation: bool,
    /// Nouns that, right after a match, make its last word a modifier ("an agent seat").
    compound_heads: &'static str,
}

/// Words that end a clause, in any language.
const CLAUSE_BREAK_WORDS: &str = "but pero sino mais aber sondern mas";

/// How many words before a match are searched for a negator.
const NEGATION_WINDOW: usize = 4;
/// How far from a negator a neutralizer may be.
const NEUTRALIZER_REACH: usize = 2;
/// How many words before a match are searched for a self-reference.
const SELF_REFERENCE_WINDOW: usize = 2;

const ENGLISH: Language = Language {
    code: "en",
    classes: &[
        "want: want wanna need like love prefer wish have hoping trying",
        "talk: talk speak chat communicate converse",
        "to: to with",
        "det: a an the some any your one another",
        "adj: real actual live human living breathing proper competent",
        "who: human person agent representative rep operator advisor adviser",
        "people: humans people agents representatives reps operators",
        "anyone: someone somebody anyone anybody manager supervisor staff employee associate specialist",
        "route: get give put connect transfer escalate forward pass hand route switch send bring redirect \
                transferred connected escalated forwarded passed routed switched redirected",
        "staff: rep reps representative representatives agent agents person advisor specialist",
        "dept: sales billing account accounts support legal finance security technical tech customer",
    ],
    phrases: &[
        "$want? to? $talk $to $det? $adj* $who|$people|$anyone",
        "$want? to? $talk $to $det? customer|client|tech|technical|product? support|service|care|helpdesk",
        "$want? to? $talk $to $det? $dept? team|department|dept|desk|office",
        "$want? to? $talk $to $det? sales",
        "real|actual|live|living $who|$people|someone|somebody",
        "human $who|staff|support|assistance|help|contact|interaction|touch|response",
        "customer|client service|support|care|success $staff",
        "$route me|us|this|it? on|over|through|back? to|with? $det? $adj* $who|$anyone",
        "want|need|prefer|request|requesting|demand|require $det? $adj* $who",
        "d|would like $det? $adj* $who",
        "ask|asking|asked for $det? $adj* $who|$people",
        "help|assistance|support from $det? $adj* $who|$people|$anyone",
        "contact|reach|call|phone|email|message $det? $adj* $who",
        "is|are not? there $det? $adj* $who|$people|$anyone",
        "in touch with $det? $adj* $who|$people|$anyone",
        "have|get $det? $adj* $who|$anyone call|phone|ring|email|contact|text",
        "can|could|may|will|would $det? $adj* $who look|check|review|handle|help|take|call|contact",
    ],
    standalone: "human humans agent representative rep operator person someone somebody anyone anybody manager \
                 supervisor",
    fillers: "a an the please pls plz now asap hi hello hey ok okay just yes yeah real live actual there help me i \
              want need urgent urgently immediately right away",
    negators: "not no never dont doesnt didnt wont nor neither without nah nope",
    neutralizers: "why can could cannot cant couldnt possible way know how",
    interjections: "no nope nah",
    interjection_followers: "i we im id just please get give connect transfer put let",
    redirects: "bot bots robot robots chatbot ai machine automated automatic assistant computer program script",
    self_reference: "am im m",
    trailing_negation: false,
    compound_heads: "seat seats license licenses licence licences account accounts role roles permission permissions \
                     access inbox inboxes app dashboard view profile invite invites login workspace status",
};

const SPANISH: Language = Language {
    code: "es",
    classes: &[
        "want: quiero quisiera necesito prefiero puedo podria deseo queria",
        "talk: hablar hablo charlar conversar chatear platicar comunicarme comunicarnos contactar contactarme",
        "prep: con a al",
        "det: un una el la algun alguna uno unos unas los las su sus otro otra",
        "who: humano humana humanos persona personas agente agentes representante representantes operador \
              operadora operadores asesor asesora asesores ejecutivo ejecutiva empleado empleada",
        "anyone: alguien supervisor supervisora encargado encargada gerente responsable especialista tecnico tecnica",
        "route: pasame pasa pasas pasen paseme pasar pasarme transfiereme transfiere transfiera transfieran transferir \
                transferirme conectame conecta conecteme conectar conectarme comunicame comunicas comuniqueme \
                comunicar ponme pongame ponganme poner ponerme derivame deriveme derivar derivarme redirigeme \
                redirigir escalar escalame",
        "real: real reales verdadera verdadero verdaderas verdaderos humano humana humanos vivo",
    ],
    phrases: &[
        "$want? $talk $prep? $det? ser? $who|$anyone",
        "$want? $talk $prep? $det? atencion|servicio|soporte al|a? cliente|clientes",
        "persona|personas|humano|agente|asesor|operador|operadora|ejecutivo|representante|alguien $real",
        "persona|humano|agente|asesor|alguien de verdad|carne",
        "agente|asesor|operador|ejecutivo|representante|alguien|atencion en vivo|linea",
        "verdadera|verdadero|autentica|autentico persona|humano|agente|ser",
        "atencion|soporte|ayuda|asistencia|trato humana|humano|personal|personalizada|personalizado",
        "$route me|nos? con|a|al|hacia? $det? ser? $who|$anyone",
        "$want|pido|exijo|requiero|busco $det? ser? $who",
        "hay $det? ser? $who|alguien",
        "atienda|atiendan|atiende|atender|atendido|atendida por? $det? ser? $who|$anyone",
    ],
    standalone: "humano agente asesor operador operadora representante persona ejecutivo",
    fillers: "un una el la por favor porfa porfavor hola ya ahora quiero necesito real urgente rapido me",
    negators: "no nunca ni sin tampoco jamas nada ningun ninguna ninguno",
    neutralizers: "puedo puede puedes pueden podria podrias podemos consigo logro como",
    interjections: "",
    interjection_followers: "",
    redirects: "bot bots robot robots chatbot ia maquina automatico automatica asistente programa",
    self_reference: "soy",
    trailing_negation: false,
    compound_heads: "",
};

const FRENCH: Language = Language {
    code: "fr",
    classes: &[
        "want: veux voudrais voudrait souhaite souhaiterais prefere prefererais aimerais veut voulons peux pourrais",
        "talk: parler discuter echanger communiquer causer converser joindre contacter",
        "prep: a avec au aux",
        "det: un une le la l les des du votre vos son sa",
        "true: vrai vraie vrais vraies veritable veritables",
        "who: humain humaine humains personne personnes conseiller conseillere conseillers agent agents operateur \
              operatrice operateurs representant representante interlocuteur interlocutrice employe employee",
        "anyone: quelqu quelquun responsable technicien technicienne superviseur manager",
        "route: mis mise passer passez passe transferer transferez transfere transferee mettre mettez mets \
                connecter connectez connecte rediriger redirigez redirige orienter orientez oriente basculer \
                basculez",
        "alive: reel reelle reels reelles humain humaine vivant vivante",
        "ask: veux voudrais souhaite souhaiterais prefere prefererais exige demande aimerais veut voulons",
    ],
    phrases: &[
        "$want? $talk qu|que? $prep? $det? $true* $who|$anyone",
        "$want? $talk $prep? $det? service client|clientele|apres|consommateurs",
        "$true $who",
        "personne|personnes|humain|conseiller|agent|interlocuteur|operateur $alive",
        "assistance|support|aide|service|contact|interlocuteur|operateur|accompagnement humain|humaine|humains",
        "$route moi|nous? en? relation? $prep|vers|en? $det? $true* $who|$anyone",
        "$ask $det? $true* $who",
        "besoin d|de $det? $true* $who|$anyone",
        "y a t il $det? $true* $who|$anyone",
        "qu il y a $det? $true* $who|$anyone",
    ],
    standalone: "humain conseiller conseillere agent operateur operatrice interlocuteur",
    fillers: "un une le la s il vous te plait svp stp bonjour merci vite maintenant urgent oui je veux voudrais vrai",
    negators: "ne n pas jamais sans aucun aucune non rien nul guere",
    neutralizers: "peux peut pouvez pourrais pourriez pourrait puis arrive arrivez arrivons reussis pourquoi \
                   comment sais",
    interjections: "non",
    interjection_followers: "je j moi svp",
    redirects: "bot bots robot robots chatbot ia machine automate programme assistant qu que",
    self_reference: "suis",
    trailing_negation: false,
    compound_heads: "",
};

const GERMAN: Language = Language {
    code: "de",
    classes: &[
        "det: einem einen einer eine ein dem den der die ihrem ihren ihrer",
        "adj: echten echtem echter echte echtes richtigen richtigem richtiger richtige realen realem realer reale \
              wirklichen wirklichem wirklicher lebenden lebendem menschlichen menschlichem menschlicher menschliche \
              kompetenten zustandigen zustaendigen",
        "real: echte echten echter echtem richtige richtigen richtiger realen reale wirkliche wirklichen lebende \
               lebenden",
        "staff: person personen mensch menschen mitarbeiter mitarbeiterin ansprechpartner ansprechpartnerin berater \
                beraterin",
        "humane: menschlichen menschlicher menschliche menschlichem",
        "contact: mitarbeiter mitarbeiterin ansprechpartner ansprechpartnerin support kontakt berater beraterin hilfe \
                  unterstutzung unterstuetzung betreuung agent kundenservice",
        "who: mensch menschen person personen mitarbeiter mitarbeiterin mitarbeitern mitarbeitenden kundenberater \
              kundenberaterin berater beraterin kundenbetreuer kundenbetreuerin betreuer betreuerin ansprechpartner \
              ansprechpartnerin sachbearbeiter sachbearbeiterin agent agenten agentin operator vorgesetzten \
              supportmitarbeiter servicemitarbeiter kundendienstmitarbeiter jemand jemandem jemanden kundendienst \
              kundenservice support",
        "adv: bitte gerne gern kurz direkt sofort jetzt mal zu",
        "verb: sprechen reden chatten schreiben telefonieren kommunizieren verbunden verbinden weitergeleitet \
               weiterleiten durchgestellt durchstellen",
        "route: verbinden verbinde verbindet verbindest weiterleiten leiten leite leitet stellen stelle stellt \
                durchstellen sprechen spreche reden rede chatten",
        "want: will mochte moechte mochten moechten brauche brauchen benotige benoetige verlange wunsche wuensche \
               hatte haette hatten",
    ],
    phrases: &[
        "mit|an|zu|zum|zur? $det? $adj* $who $adv* $verb",
        "$route sie|du|ihr? mich|uns? $adv* mit|an|zu|zum|zur $det? $adj* $who",
        "einen|einem $adj* menschen",
        "$real $staff",
        "$humane $contact",
        "$want ich? $adv* $det? $adj* $who",
        "ist|gibt da|hier|es $det? $adj* mensch|menschen|mitarbeiter|mitarbeiterin|jemand|person|ansprechpartner",
    ],
    standalone: "mensch menschen mitarbeiter mitarbeiterin kundenberater kundenberaterin berater ansprechpartner \
                 kundendienst kundenservice agent operator",
    fillers: "ein einen eine einem bitte hallo jetzt sofort schnell echter echten echte ich will mochte moechte \
              brauche dringend mal",
    negators: "nicht kein keine keinen keinem keiner keines nie niemals ohne nein",
    neutralizers: "kann kannst konnen koennen konnte koennte konnten koennten darf durfen duerfen warum wieso weshalb \
                   weiss weis schaffe",
    interjections: "nein",
    interjection_followers: "ich wir bitte",
    redirects: "bot bots roboter chatbot ki maschine computer automat programm assistent",
    self_reference: "bin",
    trailing_negation: true,
    compound_heads: "",
};

const PORTUGUESE: Language = Language {
    code: "pt",
    classes: &[
        "want: quero queria preciso gostaria prefiro desejo posso poderia",
        "talk: falar conversar papear comunicar contatar contactar teclar chatear",
        "prep: com a ao para pra",
        "det: um uma o a os as algum alguma seu sua outro outra",
        "who: humano humana humanos pessoa pessoas atendente atendentes agente agentes operador operadora operadores \
              representante representantes consultor consultora funcionario funcionaria",
        "anyone: alguem supervisor supervisora gerente responsavel especialista tecnico",
        "route: transfere transferir transfira transferem passa passar passe passem coloca colocar coloque conecta \
                conectar conecte encaminha encaminhar encaminhe chama chamar chame manda mande direciona direcionar \
                direcione",
        "real: real reais verdadeira verdadeiro humano humana viva vivo",
    ],
    phrases: &[
        "$want? de? $talk me? $prep? $det? ser? $who|$anyone",
        "$want? de? $talk me? $prep? $det? atendimento|suporte|servico|sac",
        "pessoa|pessoas|humano|atendente|agente|alguem|operador|operadora $real",
        "pessoa|humano|atendente|alguem de verdade|carne",
        "verdadeira|verdadeiro pessoa|humano|atendente",
        "atendimento|suporte|ajuda|assistencia|contato humano|humana|humanizado|pessoal|personalizado",
        "$route me|nos? $prep? $det? ser? $who|$anyone",
        "quero|preciso|queria|exijo|prefiro|gostaria|peco de? $det? ser? $who",
        "tem|existe|ha $det? $who|alguem",
        "atendido|atendida|atenda|atender por? $det? ser? $who|$anyone",
    ],
    standalone: "humano atendente operador operadora agente pessoa",
    fillers: "um uma o a por favor pfv pf ola oi agora ja urgente quero preciso de real rapido",
    negators: "nao nem nunca sem jamais nenhum nenhuma nada",
    neutralizers: "posso pode podem poderia consigo consegue sei como",
    interjections: "",
    interjection_followers: "",
    redirects: "bot bots robo robos chatbot ia maquina automatico assistente programa",
    self_reference: "sou",
    trailing_negation: true,
    compound_heads: "",
};

const LANGUAGES: [&Language; 5] = [&ENGLISH, &SPANISH, &FRENCH, &GERMAN, &PORTUGUESE];

static LEXICONS: LazyLock<Vec<Lexicon>> = LazyLock::new(|| LANGUAGES.into_iter().map(Lexicon::compile).collect());

// ---------------------------------------------------------------------------------------------
// Normalization
// ---------------------------------------------------------------------------------------------

/// Lower-cases, strips accents, expands English "n't", and splits into clauses of word tokens.
fn normalize(text: &str) -> Vec<Vec<String>> {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}' => folded.push('\''),
            '\u{0300}'..='\u{036F}' => {} // combining accents of decomposed text
            _ => match fold_letter(c) {
                Some(ascii) => folded.push_str(ascii),
                None => folded.push(c),
            },
        }
    }
    let expanded = folded.replace("can't", "cannot").replace("won't", "will not").replace("n't", " not");

    let breaks = Words::new(CLAUSE_BREAK_WORDS);
    let mut clauses: Vec<Vec<String>> = Vec::new();
    let mut clause: Vec<String> = Vec::new();
    let mut word = String::new();
    let chars: Vec<char> = expanded.chars().collect();
    let end_word = |word: &mut String, clause: &mut Vec<String>, clauses: &mut Vec<Vec<String>>| {
        if word.is_empty() {
            return;
        }
        if breaks.has(word) {
            clauses.push(std::mem::take(clause));
        } else {
            clause.push(word.clone());
        }
        word.clear();
    };
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        // Possessive / contracted "'s" stays attached ("person's" → "persons", "that's" → "thats").
        let joins_s = c == '\''
            && !word.is_empty()
            && chars.get(i + 1) == Some(&'s')
            && !chars.get(i + 2).is_some_and(|next| next.is_alphanumeric());
        if joins_s {
            continue;
        }
        end_word(&mut word, &mut clause, &mut clauses);
        if matches!(c, ',' | ';' | '.' | '!' | '?' | '\u{00BF}' | '\u{00A1}' | '\u{2026}' | '\n' | '\r') {
            clauses.push(std::mem::take(&mut clause));
        }
    }
    end_word(&mut word, &mut clause, &mut clauses);
    clauses.push(clause);
    clauses.retain(|c| !c.is_empty());
    clauses
}

/// The unaccented form of a lower-case Latin letter, if it has one.
fn fold_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ł' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'ř' => "r",
        'ś' | 'š' | 'ş' => "s",
        'ť' | 'ţ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'ß' => "ss",
        'œ' => "oe",
        'æ' => "ae",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

/// A set of words (small: a linear scan beats hashing here).
struct Words(Vec<&'static str>);

impl Words {
    fn new(list: &'static str) -> Self {
        Words(list.split_whitespace().collect())
    }

    fn has(&self, word: &str) -> bool {
        self.0.contains(&word)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Repeat {
    One,
    Optional,
    Any,
}

/// One position of a phrase: which words fit it is recorded in [`Lexicon::fits`] under `index`.
struct Element {
    index: usize,
    repeat: Repeat,
}

struct Lexicon {
    phrases: Vec<Vec<Element>>,
    /// For each word, the set (a bit per [`Element::index`]) of phrase elements it fits: one lookup per token
    /// replaces a scan of every element's word list.
    fits: HashMap<&'static str, Vec<u64>>,
    standalone: Words,
    fillers: Words,
    negators: Words,
    neutralizers: Words,
    interjections: Words,
    interjection_followers: Words,
    redirects: Words,
    self_reference: Words,
    trailing_negation: bool,
    compound_heads: Words,
}

impl Lexicon {
    /// Builds the matcher. Panics on a malformed table (unknown class, phrase that can match
    /// nothing) — a programming error the unit tests catch.
    fn compile(language: &'static Language) -> Self {
        let mut fits: HashMap<&'static str, Vec<u64>> = HashMap::new();
        let mut count = 0;
        let phrases = language
            .phrases
            .iter()
            .map(|phrase| {
                compile_phrase(language, phrase)
                    .into_iter()
                    .map(|(words, repeat)| {
                        let index = count;
                        count += 1;
                        for word in words {
                            let set = fits.entry(word).or_default();
                            set.resize(set.len().max(index / 64 + 1), 0);
                            set[index / 64] |= 1 << (index % 64);
                        }
                        Element { index, repeat }
                    })
                    .collect()
            })
            .collect();
        Lexicon {
            phrases,
            fits,
            standalone: Words::new(language.standalone),
            fillers: Words::new(language.fillers),
            negators: Words::new(language.negators),
            neutralizers: Words::new(language.neutralizers),
            interjections: Words::new(language.interjections),
            interjection_followers: Words::new(language.interjection_followers),
            redirects: Words::new(language.redirects),
            self_reference: Words::new(language.self_reference),
            trailing_negation: language.trailing_negation,
            compound_heads: Words::new(language.compound_heads),
        }
    }

    fn requests_human(&self, clause: &[&str]) -> bool {
        if self.is_standalone_request(clause) {
            return true;
        }
        // Leftmost-longest, non-overlapping matches: a negated "want to talk to a human" is not
        // re-tried as an un-negated "talk to a human".
        let longest = self.longest_matches(clause);
        let mut start = 0;
        while start < clause.len() {
            match longest[start] {
                Some(end) if end > start => {
                    if self.counts(clause, start, end) {
                        return true;
                    }
                    start = end;
                }
                _ => start += 1,
            }
        }
        false
    }

    /// For each start in `clause`, the end of the longest match of any phrase there.
    ///
    /// One right-to-left pass per phrase: `ends[j]` at position `i` is the end of the longest match of
    /// `phrase[j..]` starting at `clause[i]`, computed from the values at `i + 1`. That is the backtracking
    /// definition (a `?` or `*` element either takes the word or is skipped, the longer result wins) with each
    /// value computed once, so the work is (phrase elements × clause words), not the quadratic cost of
    /// re-reading a run of `$adj*` words from every start.
    fn longest_matches(&self, clause: &[&str]) -> Vec<Option<usize>> {
        let n = clause.len();
        let sets: Vec<&[u64]> = clause.iter().map(|t| self.fits.get(t).map_or(&[][..], Vec::as_slice)).collect();
        let fits = |i: usize, element: &Element| {
            sets[i].get(element.index / 64).is_some_and(|bits| bits >> (element.index % 64) & 1 == 1)
        };
        // A phrase with a required element that no word of the clause fits cannot match anywhere: skip it.
        let mut present: Vec<u64> = Vec::new();
        for set in &sets {
            step(1);
            present.resize(present.len().max(set.len()), 0);
            present.iter_mut().zip(set.iter()).for_each(|(all, bits)| *all |= bits);
        }
        let possible = |phrase: &[Element]| {
            phrase.iter().filter(|element| element.repeat == Repeat::One).all(|element| {
                present.get(element.index / 64).is_some_and(|bits| bits >> (element.index % 64) & 1 == 1)
            })
        };
        let mut longest = vec![None; n];
        for phrase in self.phrases.iter().filter(|phrase| possible(phrase)) {
            let k = phrase.len();
            // `next` holds the values at position i + 1, `here` those at i; `[k]` is the empty rest of the phrase.
            let mut next: Vec<Option<usize>> = vec![None; k + 1];
            let mut here: Vec<Option<usize>> = vec![None; k + 1];
            // Past the last word only optional elements can still match, with nothing.
            next[k] = Some(n);
            for j in (0..k).rev() {
                next[j] = if phrase[j].repeat == Repeat::One { None } else { next[j + 1] };
            }
            for i in (0..n).rev() {
                step(k);
                here[k] = Some(i);
                for j in (0..k).rev() {
                    let element = &phrase[j];
                    let fit = fits(i, element);
                    here[j] = match element.repeat {
                        Repeat::One => next[j + 1].filter(|_| fit),
                        Repeat::Optional => next[j + 1].filter(|_| fit).max(here[j + 1]),
                        Repeat::Any => next[j].filter(|_| fit).max(here[j + 1]),
                    };
                }
                longest[i] = longest[i].max(here[0]);
                std::mem::swap(&mut here, &mut next);
            }
        }
        longest
    }

    fn is_standalone_request(&self, clause: &[&str]) -> bool {
        step(clause.len());
        clause.iter().any(|t| self.standalone.has(t))
            && clause.iter().all(|t| self.standalone.has(t) || self.fillers.has(t))
    }

    /// Whether the match `clause[start..end]` is a request: not a self-description, not a
    /// modifier of a following noun, not negated.
    fn counts(&self, clause: &[&str], start: usize, end: usize) -> bool {
        if clause.get(end).is_some_and(|t| self.compound_heads.has(t)) {
            return false;
        }
        let self_described =
            clause[start.saturating_sub(SELF_REFERENCE_WINDOW)..start].iter().any(|t| self.self_reference.has(t));
        if self_described {
            return false;
        }
        // Matches do not overlap, so these scans of the match add up to the clause's length.
        let negated_before = (start.saturating_sub(NEGATION_WINDOW)..start).any(|at| {
            step(end - at);
            self.is_negation(clause, at) && !clause[at + 1..end].iter().any(|t| self.redirects.has(t))
        });
        let negated_after = self.trailing_negation && end < clause.len() && self.is_negation(clause, clause.len() - 1);
        !negated_before && !negated_after
    }

    /// Whether `clause[at]` is a negator that really negates.
    fn is_negation(&self, clause: &[&str], at: usize) -> bool {
        if !self.negators.has(clause[at]) {
            return false;
        }
        let interjection = at == 0
            && self.interjections.has(clause[0])
            && clause.get(1).is_some_and(|t| self.interjection_followers.has(t));
        let near = at.saturating_sub(NEUTRALIZER_REACH)..=(at + NEUTRALIZER_REACH).min(clause.len() - 1);
        let neutralized = near.filter(|&k| k != at).any(|k| self.neutralizers.has(clause[k]));
        !interjection && !neutralized
    }
}

/// The elements of `phrase`: for each, the words that fit it and how often it may occur.
fn compile_phrase(language: &'static Language, phrase: &'static str) -> Vec<(Vec<&'static str>, Repeat)> {
    let elements: Vec<(Vec<&'static str>, Repeat)> = phrase
        .split_whitespace()
        .map(|part| {
            let (body, repeat) = if let Some(body) = part.strip_suffix('?') {
                (body, Repeat::Optional)
            } else if let Some(body) = part.strip_suffix('*') {
                (body, Repeat::Any)
            } else {
                (part, Repeat::One)
            };
            let mut words = Vec::new();
            for alternative in body.split('|') {
                match alternative.strip_prefix('$') {
                    Some(name) => {
                        let class = language
                            .classes
                            .iter()
                            .find_map(|class| class.strip_prefix(name)?.strip_prefix(':'))
                            .unwrap_or_else(|| panic!("[{}] unknown class ${name} in {phrase:?}", language.code));
                        words.extend(class.split_whitespace());
                    }
                    None => words.push(alternative),
                }
            }
            assert!(!words.is_empty(), "[{}] empty element in {phrase:?}", language.code);
            (words, repeat)
        })
        .collect();
    assert!(
        elements.iter().any(|(_, repeat)| *repeat == Repeat::One),
        "[{}] phrase {phrase:?} can match nothing",
        language.code
    );
    elements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn assert_requests(cases: &[&str]) {
        let missed: Vec<&str> = cases.iter().copied().filter(|text| !asks_for_human(text)).collect();
        assert!(missed.is_empty(), "should ask for a human: {missed:#?}");
    }

    #[track_caller]
    fn assert_not_requests(cases: &[&str]) {
        let flagged: Vec<&str> = cases.iter().copied().filter(|text| asks_for_human(text)).collect();
        assert!(flagged.is_empty(), "should not ask for a human: {flagged:#?}");
    }

    // ---- English --------------------------------------------------------------------------

    #[test]
    fn english_requests() {
        assert_requests(&[
            "Can I talk to a human?",
            "I want to speak to a real person",
            "speak to an agent please",
            "Could I speak with a representative?",
            "Let me speak to someone",
            "OPERATOR!!!",
            "Is there a live agent available?",
            "I'd like to talk to a person",
            "Please connect me with a customer service rep",
            "get me a human",
            "Transfer me to a human agent",
            "human please",
            "I need to talk to someone about my bill",
            "Put me through to your manager",
            "Is there anyone I can talk to?",
            "I need human assistance",
            "I'd like a real human",
            "I've asked for a human three times",
            "can you escalate this to a person",
            "How do I reach a human?",
            "I do not understand your answer I want a human",
            "talk to customer support",
            "Hello? Anyone there?",
            "Please have someone call me",
            "put me in touch with a person",
            "can a human look at this?",
            "speak to a human being",
            "I'd like to speak to the billing team",
            "can I talk to sales?",
            // Asking whether one is talking to a person is taken as wanting one (documented).
            "Are you a real person?",
        ]);
    }

    #[test]
    fn english_negations() {
        assert_not_requests(&[
            "I don't need a human",
            "no need for a real person",
            "I do not want to talk to an agent",
            "I don\u{2019}t need to speak to anyone, thanks",
            "I dont want to talk to a human",
            "Never transfer me to a human",
            "I would rather not speak to a person",
            "No human please",
            "I didn't ask for an agent",
            "I don't think I need to speak to a human",
            "Is there a way to fix this without talking to a human or an agent?",
        ]);
    }

    #[test]
    fn english_negation_about_the_bot_or_ability_still_requests() {
        assert_requests(&[
            "I don't want to talk to a bot, get me a human",
            "I don't want to talk to a bot get me a human",
            "I don\u{2019}t want the bot \u{2014} get me a human",
            "I don't want anything but a human",
            "Why can't I talk to a human?",
            "Why don't you let me speak to a person?",
            "I can't reach a human",
            "I couldn't get through to a person",
            "I don't know how to reach a human",
            "Isn't there a person I can talk to?",
            "Is it not possible to speak to a human?",
            "Is there no way to talk to a human?",
            "No I want a human",
            "No, a human please",
        ]);
    }

    #[test]
    fn english_near_misses() {
        assert_not_requests(&[
            "The humane society called me",
            "Please check my agenda for tomorrow",
            "How do I update my personal details?",
            "The cooperator program is great",
            "I talked to an agent yesterday and it was fixed",
            "My real estate agent needs the invoice",
            "Where is the human resources page?",
            "How do I get the person's email address?",
            "the operator of the website changed the price",
            "Talk to me like a human would",
            "I'm a real person, not a bot",
            "humanity",
            "agents",
            "How do I reset my password?",
            "I need an agent seat for my new hire",
            "How do I give a person access to the inbox?",
            "How can I transfer a conversation to an agent?",
            "",
            "   ",
        ]);
    }

    // ---- Spanish --------------------------------------------------------------------------

    #[test]
    fn spanish_requests() {
        assert_requests(&[
            "¿Puedo hablar con una persona?",
            "Quiero hablar con un humano",
            "necesito hablar con un agente",
            "Quiero una persona real",
            "operador",
            "Pásame con un asesor, por favor",
            "hablar con alguien de verdad",
            "¿Hay algún humano?",
            "Quisiera comunicarme con un representante",
            "un agente humano por favor",
            "OPERADOR!!",
            "quiero hablar con servicio al cliente",
            "Quiero que me atienda una persona",
        ]);
    }

    #[test]
    fn spanish_negations() {
        assert_not_requests(&[
            "No quiero hablar con un humano",
            "no necesito un agente",
            "No me hace falta hablar con una persona",
            "Sin hablar con un agente, ¿puedo cancelar?",
            "Ya no necesito hablar con una persona",
            "Nunca quiero hablar con un operador",
            "Soy una persona real",
        ]);
    }

    #[test]
    fn spanish_negation_about_the_bot_or_ability_still_requests() {
        assert_requests(&[
            "No quiero hablar con un bot, quiero hablar con un humano",
            "no quiero un robot quiero una persona real",
            "¿Por qué no puedo hablar con una persona?",
            "No sé cómo hablar con un humano",
            "no puedo hablar con una persona",
            "No quiero un bot sino una persona real",
        ]);
    }

    #[test]
    fn spanish_near_misses() {
        assert_not_requests(&[
            "Mi operador de telefonía me cobró dos veces",
            "Quiero personalizar mi cuenta",
            "Revisa mi agenda",
            "El agente me ayudó ayer",
            "La humanidad",
        ]);
    }

    // ---- French ---------------------------------------------------------------------------

    #[test]
    fn french_requests() {
        assert_requests(&[
            "Je veux parler à un humain",
            "Est-ce que je peux parler à une personne ?",
            "Je voudrais parler à un conseiller",
            "parler à un agent svp",
            "Je veux une vraie personne",
            "Opérateur !",
            "operateur",
            "Passez-moi un conseiller s'il vous plaît",
            "Mettez-moi en relation avec un agent",
            "J'ai besoin de parler à quelqu'un",
            "Y a-t-il un humain ?",
            "un conseiller humain svp",
            "je peux parler au service client ?",
            "PARLER A UN HUMAIN",
            "Je souhaite être mis en relation avec un conseiller",
        ]);
    }

    #[test]
    fn french_negations() {
        assert_not_requests(&[
            "Je ne veux pas parler à un humain",
            "Je n'ai pas besoin d'un conseiller",
            "pas besoin de parler à une personne",
            "je veux pas parler à un agent",
            "Sans parler à un conseiller, puis-je annuler ?",
            "Je suis une vraie personne",
            "je ne veux pas que tu me passes un conseiller",
        ]);
    }

    #[test]
    fn french_negation_about_the_bot_or_ability_still_requests() {
        assert_requests(&[
            "Je ne veux pas parler à un robot, je veux parler à un humain",
            "je ne veux pas parler au robot je veux parler à un conseiller",
            "Je ne veux parler qu'à un humain",
            "Pourquoi je ne peux pas parler à un conseiller ?",
            "Non je veux un humain",
            "Pas le bot mais une vraie personne",
        ]);
    }

    #[test]
    fn french_near_misses() {
        assert_not_requests(&[
            "Mon opérateur mobile m'a facturé deux fois",
            "Je consulte mon agenda",
            "Mes données personnelles",
            "une association humanitaire",
            "L'agent m'a aidé hier",
        ]);
    }

    // ---- German ---------------------------------------------------------------------------

    #[test]
    fn german_requests() {
        assert_requests(&[
            "Ich möchte mit einem Menschen sprechen",
            "Kann ich mit einem Mitarbeiter sprechen?",
            "Ich will eine echte Person",
            "Bitte verbinden Sie mich mit einem Kundenberater",
            "Ich brauche einen Menschen",
            "Kundenberater bitte",
            "Ist da ein Mensch?",
            "mit einem echten Menschen reden",
            "Ich möchte einen Mitarbeiter sprechen",
            "Können Sie mich an einen Mitarbeiter weiterleiten?",
            "moechte mit einem menschen sprechen",
            "Ich hätte gern einen menschlichen Ansprechpartner",
        ]);
    }

    #[test]
    fn german_negations() {
        assert_not_requests(&[
            "Ich brauche keinen Menschen",
            "Ich möchte nicht mit einem Mitarbeiter sprechen",
            "Ich will keinen Kundenberater",
            "Einen Menschen brauche ich nicht",
            "Ohne mit einem Mitarbeiter zu sprechen, wie kündige ich?",
            "Ich bin eine echte Person",
            "Nein, ich brauche keinen Mitarbeiter",
        ]);
    }

    #[test]
    fn german_negation_about_the_bot_or_ability_still_requests() {
        assert_requests(&[
            "Ich will nicht mit einem Bot sprechen, sondern mit einem Menschen",
            "Ich will keinen Bot ich will einen Menschen",
            "Warum kann ich nicht mit einem Menschen sprechen?",
            "Nein, ich will einen Menschen",
            "Nein ich will mit einem Mitarbeiter sprechen",
        ]);
    }

    #[test]
    fn german_near_misses() {
        assert_not_requests(&[
            "Die Menschenrechte sind wichtig",
            "Meine persönlichen Daten ändern",
            "Ich habe gestern mit einem Mitarbeiter gesprochen",
            "Die Agenda für morgen",
            "Der Mitarbeiter war sehr freundlich",
        ]);
    }

    // ---- Portuguese -----------------------------------------------------------------------

    #[test]
    fn portuguese_requests() {
        assert_requests(&[
            "Quero falar com um humano",
            "Posso falar com uma pessoa?",
            "Gostaria de falar com um atendente",
            "pessoa real, por favor",
            "atendente humano",
            "Me passa para um atendente",
            "operador",
            "Preciso de um atendente",
            "Tem alguém aí?",
            "quero atendimento humano",
            "falar com o suporte",
            "Quero ser atendido por uma pessoa",
            "quero falar com alguem de verdade",
        ]);
    }

    #[test]
    fn portuguese_negations() {
        assert_not_requests(&[
            "Não preciso de um atendente",
            "Não quero falar com um humano",
            "Eu não preciso falar com uma pessoa",
            "Sem falar com um atendente, posso cancelar?",
            "Preciso de um atendente não",
            "Nunca quero falar com um operador",
            "Sou uma pessoa real",
            "nao quero falar com ninguem",
        ]);
    }

    #[test]
    fn portuguese_negation_about_the_bot_or_ability_still_requests() {
        assert_requests(&[
            "Não quero falar com o robô, quero falar com uma pessoa",
            "nao quero o robo quero um humano",
            "Não consigo falar com um humano",
            "Não sei como falar com um atendente",
            "Não quero o bot mas sim uma pessoa real",
        ]);
    }

    #[test]
    fn portuguese_near_misses() {
        assert_not_requests(&[
            "Meu operador de celular me cobrou duas vezes",
            "Minha agenda de hoje",
            "Quero personalizar minha conta",
            "A humanidade",
            "O atendente foi muito educado",
        ]);
    }

    #[test]
    fn documented_limits_are_real() {
        // Indirect requests, frustration and typos are not detected (see the module docs)…
        assert_not_requests(&[
            "this bot is useless",
            "I've asked three times already",
            "humna please",
            "can I talk to a reprensentative",
            "posso falar com um umano",
        ]);
        // …and reported speech is: the words match even though the writer is not asking.
        assert_requests(&["My customers want to talk to a human, how do I set that up?"]);
    }

    // ---- normalization and clauses -----------------------------------------------------------

    #[test]
    fn accents_case_and_punctuation_do_not_matter() {
        assert_requests(&[
            "OPÉRATEUR",
            "opera\u{0301}teur", // decomposed accent
            "Ich MÖCHTE mit einem MENSCHEN sprechen!!!",
            "hablar   con\tuna\npersona",
            "...talk...to...a...human...",
            "TALK TO A HUMAN",
            "«parler à un humain»",
        ]);
    }

    #[test]
    fn words_containing_a_keyword_do_not_match() {
        assert_not_requests(&[
            "humane",
            "humanoid",
            "agenda",
            "agency",
            "personal",
            "personnel",
            "cooperator",
            "operators manual",
            "humanos-like",
        ]);
    }

    #[test]
    fn negation_is_limited_to_its_clause() {
        assert_requests(&[
            "No. I want a human",
            "I don't like this; talk to a human",
            "Not working! Get me an agent",
            "I do not understand.\nSpeak to a person please",
        ]);
    }

    #[test]
    fn negation_window_is_short() {
        // The negator is five words before the match: too far to count.
        assert!(asks_for_human("Not clear to me I want a human"));
        // Within four words it counts.
        assert!(!asks_for_human("I really do not want a human"));
    }

    #[test]
    fn normalize_splits_clauses_and_expands_contractions() {
        assert_eq!(
            normalize("I don\u{2019}t want the BOT, but can't I speak to Jürgen's team? ¿Operador!"),
            vec![
                vec!["i", "do", "not", "want", "the", "bot"],
                vec!["cannot", "i", "speak", "to", "jurgens", "team"],
                vec!["operador"],
            ]
        );
        assert_eq!(
            normalize("Passez-moi l'agent, s'il vous plaît"),
            vec![vec!["passez", "moi", "l", "agent"], vec!["s", "il", "vous", "plait"],]
        );
        assert_eq!(normalize("Straße Œuvre"), vec![vec!["strasse", "oeuvre"]]);
        assert!(normalize(" ,;. ").is_empty());
    }

    // ---- cost on hostile input ---------------------------------------------------------------

    /// The decision for `text`, and the matcher steps it took.
    fn decide_counting_steps(text: &str) -> (bool, usize) {
        STEPS.with(|steps| steps.set(0));
        let decision = asks_for_human(text);
        (decision, STEPS.with(std::cell::Cell::get))
    }

    /// Steps allowed per word: every phrase element of every language once, plus the scans around a match.
    fn steps_per_word() -> usize {
        LEXICONS.iter().map(|lexicon| lexicon.phrases.iter().map(Vec::len).sum::<usize>() + 2 + NEGATION_WINDOW).sum()
    }

    #[test]
    fn repeated_words_cost_linear_steps() {
        for (unit, expected) in [
            ("echte ", false),
            ("please ", false),
            ("a ", false),
            ("human ", true),
            ("talk to ", false),
            ("echte menschen sprechen ", true),
        ] {
            let text = unit.repeat(20_000 / unit.len());
            let words: usize = normalize(&text).iter().map(Vec::len).sum();
            let (decision, steps) = decide_counting_steps(&text);
            assert_eq!(decision, expected, "{unit:?}");
            assert!(steps <= steps_per_word() * words, "{unit:?}: {steps} steps for {words} words");
            // Twice the input, twice the work (a quadratic matcher would take four times as many steps).
            let (_, doubled) = decide_counting_steps(&unit.repeat(40_000 / unit.len()));
            assert!(doubled <= 2 * steps + steps / 10, "{unit:?}: {steps} then {doubled} steps");
        }
    }

    #[test]
    fn long_matches_and_negations_are_still_decided() {
        // "mit einem echten … Menschen sprechen" with thousands of adjectives: one long match.
        let adjectives = "echte ".repeat(3_000);
        assert!(asks_for_human(&format!("{adjectives}menschen sprechen")));
        assert!(!asks_for_human(&format!("nicht {adjectives}menschen sprechen")));
        assert!(asks_for_human(&format!("nicht bot {adjectives}menschen sprechen")));
        let (decision, steps) = decide_counting_steps(&format!("nicht {adjectives}menschen sprechen"));
        assert!(!decision);
        assert!(steps <= steps_per_word() * 3_003, "{steps} steps");
        // A clause of 50,000 words needs no deep recursion.
        assert!(!asks_for_human(&"echte ".repeat(50_000)));
    }

    // ---- table hygiene --------------------------------------------------------------------

    #[test]
    fn every_table_word_is_already_normalized() {
        let check = |code: &str, what: &str, word: &str| {
            assert_eq!(normalize(word), vec![vec![word.to_owned()]], "[{code}] {what} word {word:?} is not normalized");
        };
        for language in LANGUAGES {
            for class in language.classes {
                let (name, words) = class.split_once(':').expect("class written \"name: words\"");
                assert!(
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase()),
                    "[{}] class {name:?}",
                    language.code
                );
                words.split_whitespace().for_each(|w| check(language.code, name, w));
            }
            for phrase in language.phrases {
                for part in phrase.split_whitespace() {
                    let body = part.trim_end_matches(['?', '*']);
                    body.split('|').filter(|a| !a.starts_with('$')).for_each(|w| check(language.code, phrase, w));
                }
            }
            for (what, list) in [
                ("standalone", language.standalone),
                ("filler", language.fillers),
                ("negator", language.negators),
                ("neutralizer", language.neutralizers),
                ("interjection", language.interjections),
                ("interjection follower", language.interjection_followers),
                ("redirect", language.redirects),
                ("self-reference", language.self_reference),
                ("compound head", language.compound_heads),
            ] {
                list.split_whitespace().for_each(|w| check(language.code, what, w));
            }
        }
        CLAUSE_BREAK_WORDS.split_whitespace().for_each(|w| assert!(w.chars().all(|c| c.is_ascii_lowercase())));
    }

    #[test]
    fn every_table_compiles() {
        let lexicons = &*LEXICONS;
        assert_eq!(lexicons.len(), LANGUAGES.len());
        for (lexicon, language) in lexicons.iter().zip(LANGUAGES) {
            assert_eq!(lexicon.phrases.len(), language.phrases.len(), "[{}]", language.code);
        }
    }

    #[test]
    fn standalone_words_are_never_fillers_or_negators() {
        for language in LANGUAGES {
            let fillers = Words::new(language.fillers);
            let negators = Words::new(language.negators);
            for word in language.standalone.split_whitespace() {
                assert!(!negators.has(word), "[{}] {word}", language.code);
                assert!(!fillers.has(word), "[{}] {word}", language.code);
            }
            for word in language.fillers.split_whitespace() {
                assert!(!negators.has(word), "[{}] filler {word} is a negator", language.code);
            }
        }
    }
}
