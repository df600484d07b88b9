//! Swedish material for realistic agreements: names of public bodies and people, section
//! headings and the sentences their texts are made of (the register of real samverkans-
//! överenskommelser between municipalities, regions and the police).

use crate::rng::Rng;

pub(crate) const MUNICIPALITIES: &[&str] = &[
    "Norrköping",
    "Linköping",
    "Motala",
    "Finspång",
    "Söderköping",
    "Valdemarsvik",
    "Norrtälje",
    "Uppsala",
    "Enköping",
    "Östhammar",
    "Västerås",
    "Eskilstuna",
    "Örebro",
    "Karlstad",
    "Jönköping",
    "Växjö",
    "Kalmar",
    "Karlskrona",
    "Halmstad",
    "Borås",
    "Trollhättan",
    "Skövde",
    "Gävle",
    "Sundsvall",
    "Östersund",
    "Umeå",
    "Skellefteå",
    "Luleå",
    "Kiruna",
    "Falun",
    "Borlänge",
    "Nyköping",
    "Katrineholm",
    "Visby",
    "Lund",
    "Malmö",
    "Helsingborg",
    "Kristianstad",
    "Hässleholm",
    "Ängelholm",
    "Mölndal",
    "Kungälv",
    "Uddevalla",
    "Lidköping",
    "Mariestad",
    "Arvika",
    "Sandviken",
    "Hudiksvall",
    "Härnösand",
    "Örnsköldsvik",
];

pub(crate) const REGIONS: &[&str] = &[
    "Östergötland",
    "Stockholm",
    "Uppsala",
    "Västmanland",
    "Sörmland",
    "Örebro län",
    "Värmland",
    "Jönköpings län",
    "Kronoberg",
    "Kalmar län",
    "Blekinge",
    "Halland",
    "Västra Götaland",
    "Gävleborg",
    "Västernorrland",
    "Jämtland Härjedalen",
    "Västerbotten",
    "Norrbotten",
    "Dalarna",
    "Gotland",
    "Skåne",
];

/// Kinds of party: (slug part, display name with `{}` for the place, signatory roles).
pub(crate) const BODIES: &[(&str, &str, &[&str])] = &[
    (
        "utbildningsnamnden",
        "Utbildningsnämnden, {} kommun",
        &["förvaltningschef", "nämndordförande"],
    ),
    (
        "socialnamnden",
        "Socialnämnden, {} kommun",
        &["socialchef", "nämndordförande"],
    ),
    (
        "barn-och-skolnamnden",
        "Barn- och skolnämnden, {} kommun",
        &["skolchef", "nämndordförande"],
    ),
    (
        "kultur-och-fritid",
        "Kultur- och fritidsnämnden, {} kommun",
        &["kultur- och fritidschef", "nämndordförande"],
    ),
    (
        "kommunstyrelsen",
        "Kommunstyrelsen, {} kommun",
        &["kommundirektör", "kommunstyrelsens ordförande"],
    ),
    (
        "vard-och-omsorg",
        "Vård- och omsorgsnämnden, {} kommun",
        &["förvaltningschef", "nämndordförande"],
    ),
    (
        "polisen",
        "Polisen, lokalpolisområde {}",
        &["lokalpolisområdeschef", "kommunpolis"],
    ),
    (
        "raddningstjansten",
        "Räddningstjänsten {}",
        &["räddningschef", "förbundsdirektör"],
    ),
];

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Anna", "Bo", "Cecilia", "David", "Elin", "Fredrik", "Gunilla", "Henrik", "Ingrid", "Johan",
    "Karin", "Lars", "Maria", "Niklas", "Olof", "Petra", "Ragnar", "Sara", "Tobias", "Ulrika",
    "Viktor", "Åsa", "Örjan", "Märta", "Göran", "Birgitta", "Jörgen", "Linnéa", "Mikael", "Sofie",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Andersson",
    "Björk",
    "Carlsson",
    "Danielsson",
    "Eriksson",
    "Forsberg",
    "Gustafsson",
    "Hedlund",
    "Isaksson",
    "Johansson",
    "Karlsson",
    "Lindqvist",
    "Magnusson",
    "Nyström",
    "Olsson",
    "Persson",
    "Qvist",
    "Rosén",
    "Sjöberg",
    "Törnqvist",
    "Ullman",
    "Wallin",
    "Åkesson",
    "Öberg",
    "Ström",
    "Lundgren",
    "Holmström",
    "Bergström",
];

pub(crate) const TITLES: &[&str] = &[
    "Överenskommelse om samverkan kring barn och unga i {}",
    "Lokal BUS-överenskommelse, {}",
    "Samverkansöverenskommelse om tidiga insatser för barn och unga i {}",
    "Överenskommelse om samverkan kring barn och unga med psykisk ohälsa i {}",
    "Samverkansavtal om brottsförebyggande arbete i {}",
    "Överenskommelse om samordnad individuell plan (SIP) i {}",
    "Överenskommelse om samverkan kring familjecentral i {}",
];

pub(crate) const PREAMBLES: &[&str] = &[
    "Parterna är överens om att samverka för att alla barn och unga i {} ska ha goda uppväxtvillkor, god hälsa och en god utbildning.",
    "Denna överenskommelse beskriver hur parterna i {} gemensamt ska arbeta för att tidigt upptäcka och möta barn och unga som riskerar att utveckla en ogynnsam livssituation.",
    "Överenskommelsen bygger på den regionala överenskommelsen om samverkan kring barn och unga och anpassar den till förhållandena i {}.",
    "Syftet med överenskommelsen är att tydliggöra ansvarsfördelningen mellan parterna i {} och att skapa förutsättningar för en långsiktigt hållbar samverkan.",
];

pub(crate) const HEADINGS: &[(&str, &str)] = &[
    ("vardegrund", "Värdegrund"),
    ("syfte-och-mal", "Övergripande syfte och mål"),
    ("malgrupp", "Målgrupp"),
    ("ansvarsfordelning", "Ansvarsfördelning"),
    ("ledningens-ansvar", "Ledningens övergripande ansvar"),
    ("samverkansstruktur", "Samverkansstruktur"),
    ("sekretess", "Sekretess och informationsöverföring"),
    ("avvikelser", "Avvikelsehantering"),
    ("uppfoljning", "Uppföljning och utvärdering"),
    ("giltighetstid", "Giltighetstid och revidering"),
    ("tvister", "Tvister"),
    ("kompetens", "Kompetensutveckling"),
];

pub(crate) const SENTENCES: &[&str] = &[
    "Vi samverkar för alla barns bästa och plattformen i arbetet är FN:s konvention om barnets rättigheter.",
    "Barnets behov står i fokus och avgör vilka verksamheter som ska samverka kring barnet.",
    "Inget barn ska falla mellan stolarna.",
    "Parterna har ett gemensamt ansvar för att tidigt identifiera barn och unga som avviker i sin utveckling.",
    "Samverkan ska präglas av ömsesidig respekt för respektive parts uppdrag och kompetens.",
    "Förvaltningsledningen i kommunen, regionen och polisen ansvarar för att skapa strukturella förutsättningar för samverkan.",
    "Frågor som rör samverkan ska vara levande i den egna organisationen.",
    "Representanter utses till styrgruppen av respektive part och ska ha mandat att fatta beslut för sin verksamhet.",
    "Uppföljningen ska innehålla hur parterna arbetat med uppdragen, vilka aktiviteter som genomförts och vilka utvecklingsbehov som identifierats.",
    "Arbetet ska följas upp årligen och redovisas för respektive parts nämnd eller ledning.",
    "Samordnad individuell plan (SIP) ska upprättas när barnet eller den unge har behov av insatser från både kommunen och regionen.",
    "Barnet och vårdnadshavarna ska så långt det är möjligt vara delaktiga i planeringen.",
    "Informationsöverföring mellan parterna sker med samtycke från vårdnadshavare eller med stöd av lag.",
    "Avvikelser i samverkan rapporteras till den egna verksamhetens ledning och tas upp i styrgruppen.",
    "Parterna ska verka för att personalen har kunskap om varandras uppdrag, arbetssätt och lagstiftning.",
    "Gemensamma utbildningsinsatser planeras av arbetsgruppen och genomförs minst en gång per år.",
    "Överenskommelsen gäller tills vidare och revideras vid behov, dock minst vart fjärde år.",
    "Tvister om tolkningen av överenskommelsen ska i första hand lösas på lägsta möjliga nivå.",
    "Kan parterna inte enas hänskjuts frågan till den politiska samverkansgruppen.",
    "Familjecentralen erbjuder föräldrar och barn en mötesplats där mödravård, barnhälsovård, öppen förskola och socialtjänst samverkar.",
    "Elevhälsan och barn- och ungdomspsykiatrin ska ha en gemensam rutin för konsultation och remittering.",
    "Polisen bidrar med lägesbilder och deltar i det brottsförebyggande arbetet på lokal nivå.",
    "Socialtjänsten ansvarar för förebyggande arbete, utredning och bistånd enligt socialtjänstlagen.",
    "Regionen ansvarar för hälso- och sjukvård, inklusive barnhälsovård, ungdomsmottagning och barn- och ungdomspsykiatri.",
    "Skolan ansvarar för att elever ges den ledning och stimulans som de behöver i sitt lärande och sin personliga utveckling.",
    "Kostnader för gemensamma insatser fördelas mellan parterna efter överenskommelse i varje enskilt fall.",
    "En gemensam handlingsplan tas fram för varje verksamhetsår och beslutas av styrgruppen.",
    "Genom samverkan ska vi samordna våra erfarenheter, kompetenser och resurser så att det gagnar barn och unga.",
    "Arbetet ska utgå från barnets rätt till skydd, omsorg, utbildning och delaktighet.",
    "Särskild uppmärksamhet ska ägnas barn i familjer med missbruk, psykisk ohälsa eller våld i nära relationer.",
];

pub(crate) const FORUMS: &[(&str, &str, &str)] = &[
    (
        "styrgrupp",
        "Styrgrupp för samverkan kring barn och unga",
        "Styrgruppen ansvarar för lokala, övergripande samverkansfrågor och följer upp att syfte och mål är förankrade i hela organisationen.",
    ),
    (
        "arbetsgrupp",
        "Arbetsgrupp för samverkan",
        "Arbetsgruppen bereder ärenden till styrgruppen och samordnar det praktiska samverkansarbetet mellan parternas verksamheter.",
    ),
    (
        "politisk-samverkan",
        "Lokalpolitisk samverkansgrupp",
        "Representanter för parternas presidier möts för att förankra inriktningen av samverkan och besluta om gemensamma prioriteringar.",
    ),
    (
        "sspf",
        "SSPF – skola, socialtjänst, polis och fritid",
        "SSPF arbetar med unga som riskerar att hamna i kriminalitet eller missbruk och samordnar insatser kring den enskilde.",
    ),
];

pub(crate) const TASKS: &[&str] = &[
    "Fånga upp utvecklingsbehov och initiera gemensamma utvecklingsarbeten.",
    "Följa upp samverkansverksamheternas arbete och resultat.",
    "Säkerställa att det finns rutiner för hur brister i samverkan uppmärksammas och åtgärdas.",
    "Ta fram lokala rutiner för samverkan kring särskilda målgrupper.",
    "Sammanställa en gemensam lägesbild av barns och ungas uppväxtvillkor.",
    "Planera gemensamma utbildningsinsatser för personalen.",
    "Bereda ärenden inför den lokalpolitiska samverkansgruppen.",
];

pub(crate) const REPRESENTATIVE_ROLES: &[&str] = &[
    "förvaltningschef",
    "verksamhetschef",
    "enhetschef",
    "rektor",
    "kommunpolis",
    "samordnare",
    "folkhälsostrateg",
    "chefläkare",
    "avdelningschef",
];

pub(crate) const NOTES: &[&str] = &[
    "Revidering efter årlig uppföljning i styrgruppen.",
    "Reviderad av parterna efter begäran om omförhandling.",
    "Förtydligad ansvarsfördelning och ny samverkansstruktur.",
    "Anpassning till ny lagstiftning och nya nationella riktlinjer.",
    "Redaktionella ändringar och uppdaterade kontaktvägar.",
];

pub(crate) const REASONS: &[&str] = &[
    "Behov av att se över ansvarsfördelningen efter omorganisation.",
    "Ny nationell lagstiftning påverkar parternas uppdrag.",
    "Uppföljningen visar att samverkansstrukturen behöver förenklas.",
    "Parten vill att första linjens verksamheter får en plats i styrgruppen.",
];

pub(crate) fn pick<'a>(rng: &mut Rng, items: &'a [&'a str]) -> &'a str {
    items[rng.below(items.len())]
}

pub(crate) fn person(rng: &mut Rng) -> String {
    format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES))
}

/// A section text of `min..max` characters (roughly), in paragraphs of 2–4 sentences.
pub(crate) fn paragraphs(rng: &mut Rng, min: usize, max: usize) -> String {
    let target = min + rng.below(max - min + 1);
    let mut text = String::new();
    while text.len() < target {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        let sentences = 2 + rng.below(3);
        for i in 0..sentences {
            if i > 0 {
                text.push(' ');
            }
            text.push_str(pick(rng, SENTENCES));
        }
    }
    text
}
