//! Word lists the book generator draws names from: brand words, sectors,
//! family names of several countries, Japanese companies and people with
//! their romanised forms. Plain data; nothing here decides anything.

pub const BRANDS: &[&str] = &[
    "Acme", "Bright", "Cedar", "Delta", "Summit", "Harbor", "North", "Thorn", "Apex", "Blue",
    "Crest", "Echo", "Falcon", "Granite", "Horizon", "Iron", "Juniper", "Keystone", "Lumen",
    "Maple", "Nova", "Orion", "Pioneer", "Quartz", "Redwood", "Sierra", "Titan", "Unity", "Vertex",
    "Willow", "Zenith", "Atlas", "Beacon", "Cobalt", "Dynamo", "Ember", "Fjord", "Glacier",
    "Helix", "Indigo", "Kestrel", "Lantern", "Meridian", "Nimbus", "Onyx", "Polaris", "Raven",
    "Sable", "Tundra", "Vantage",
];

pub const SECTORS: &[&str] = &[
    "Analytics",
    "Robotics",
    "Logistics",
    "Foods",
    "Software",
    "Trading",
    "Systems",
    "Solutions",
    "Consulting",
    "Partners",
    "Industries",
    "Technologies",
    "Labs",
    "Media",
    "Energy",
    "Health",
];

/// Third words that make look-alikes: "Nova Analytics" and "Nova Analytics
/// Works" are two companies.
pub const EXTRAS: &[&str] = &[
    "Works",
    "International",
    "Global",
    "Digital",
    "Direct",
    "Pacific",
    "Atlantic",
    "Services",
    "Capital",
    "Networks",
];

pub const FRENCH_FAMILIES: &[&str] = &[
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "Andre", "Mercier", "Dupont", "Lambert", "Bonnet",
    "Francois", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guerin", "Muller",
    "Henry", "Roussel", "Nicolas", "Perrin",
];

pub const GERMAN_FAMILIES: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
];

/// Family-name firm patterns: `{}` is the family name.
pub const FRENCH_FIRMS: &[&str] = &[
    "Laboratoires {}",
    "Cabinet {}",
    "{} & Fils",
    "Transports {}",
    "Boulangerie {}",
];
pub const GERMAN_FIRMS: &[&str] = &["{} & Söhne", "{} Bau", "Autohaus {}", "{} Metallbau"];

/// (kanji, romanised) place or brand words and sectors of Japanese companies.
pub const JA_BRANDS: &[(&str, &str)] = &[
    ("北斗", "Hokuto"),
    ("日東", "Nitto"),
    ("関西", "Kansai"),
    ("港", "Minato"),
    ("東海", "Tokai"),
    ("山陽", "Sanyo"),
    ("富士", "Fuji"),
    ("大和", "Yamato"),
    ("青葉", "Aoba"),
    ("桜", "Sakura"),
    ("朝日", "Asahi"),
    ("三和", "Sanwa"),
    ("中央", "Chuo"),
    ("光", "Hikari"),
    ("若葉", "Wakaba"),
    ("明星", "Myojo"),
    ("東洋", "Toyo"),
    ("新栄", "Shinei"),
    ("丸紅", "Marubeni"),
    ("旭", "Asahi"),
    ("神田", "Kanda"),
    ("白鳥", "Shiratori"),
    ("金剛", "Kongo"),
    ("栄光", "Eiko"),
    ("日進", "Nisshin"),
    ("瑞穂", "Mizuho"),
    ("北陸", "Hokuriku"),
    ("四国", "Shikoku"),
    ("千代田", "Chiyoda"),
    ("高砂", "Takasago"),
];
pub const JA_SECTORS: &[(&str, &str)] = &[
    ("精機", "Seiki"),
    ("電子", "Denshi"),
    ("商事", "Shoji"),
    ("物産", "Bussan"),
    ("工業", "Kogyo"),
    ("製作所", "Seisakusho"),
    ("食品", "Shokuhin"),
    ("運輸", "Unyu"),
];

pub const FIRST_NAMES: &[&str] = &[
    "John", "Mary", "James", "Linda", "Robert", "Susan", "Michael", "Karen", "David", "Laura",
    "Daniel", "Emma", "Oliver", "Sophie", "Lukas", "Anna", "Maria", "Pierre", "Claire", "Julien",
    "Camille", "Thomas", "Sarah", "Peter", "Helen", "Mark", "Rachel", "Paul", "Nina", "Ravi",
    "Priya", "Chen", "Mei", "Carlos", "Lucia", "Ahmed", "Fatima", "Ivan", "Olga", "Sven",
];
pub const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Clarke",
    "Hughes",
    "Walker",
    "Schmidt",
    "Becker",
    "Martin",
    "Dubois",
    "Rossi",
    "Patel",
    "Wang",
    "Alvarez",
    "Novak",
    "Larsen",
    "Kowalski",
    "Okafor",
    "Haddad",
    "Murphy",
    "Kelly",
    "Evans",
    "Zwicklbauer",
    "Fitzgerald",
];

/// (kanji, romanised) Japanese family and given names; the romanised forms
/// are as a Western CRM would hold them (long vowels dropped).
pub const JA_FAMILY: &[(&str, &str)] = &[
    ("佐藤", "Sato"),
    ("鈴木", "Suzuki"),
    ("高橋", "Takahashi"),
    ("田中", "Tanaka"),
    ("伊藤", "Ito"),
    ("渡辺", "Watanabe"),
    ("山本", "Yamamoto"),
    ("中村", "Nakamura"),
    ("小林", "Kobayashi"),
    ("加藤", "Kato"),
    ("吉田", "Yoshida"),
    ("山田", "Yamada"),
    ("松本", "Matsumoto"),
    ("井上", "Inoue"),
    ("木村", "Kimura"),
];
pub const JA_GIVEN: &[(&str, &str)] = &[
    ("健", "Ken"),
    ("直子", "Naoko"),
    ("優子", "Yuko"),
    ("大輔", "Daisuke"),
    ("恵", "Megumi"),
    ("誠", "Makoto"),
    ("美咲", "Misaki"),
    ("翔太", "Shota"),
    ("陽子", "Yoko"),
    ("拓也", "Takuya"),
    ("由美", "Yumi"),
    ("浩", "Hiroshi"),
];

pub const CITIES: &[(&str, &str, &str)] = &[
    // (country, city, postcode pattern: 9 = a digit, A = a letter)
    ("US", "Boston", "02199"),
    ("US", "Austin", "78799"),
    ("US", "Denver", "80299"),
    ("US", "Seattle", "98199"),
    ("GB", "London", "EC9A 9AA"),
    ("GB", "Leeds", "LS9 9AA"),
    ("DE", "Berlin", "10999"),
    ("DE", "Hamburg", "20999"),
    ("DE", "München", "80999"),
    ("FR", "Paris", "75099"),
    ("FR", "Lyon", "69009"),
    ("FR", "Lille", "59099"),
    ("JP", "東京都", "199-9999"),
    ("JP", "大阪市", "599-9999"),
    ("JP", "名古屋市", "499-9999"),
];

pub const FREEMAIL: &[&str] = &["gmail.com", "yahoo.com", "outlook.com", "yahoo.co.jp"];
