//! A deterministic generator of bilingual customer records for benchmarks:
//! about ten records per customer (the organisation or person itself,
//! contacts, notes, emails, tickets, opportunities), English and Japanese
//! text, phones, emails, amounts, dates, stages, tags and loose attributes,
//! every record carrying its customer's id and golden fields as resolution
//! leaves them.
//!
//! It must never be random between runs: the same size gives the same
//! corpus, so figures from two runs compare.

use chrono::{TimeZone, Utc};
use serde_json::json;

use crate::record::{Record, RecordKind};

/// A small, fast, seeded generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

pub const EN_BRANDS: &[&str] = &[
    "Acme",
    "Brightwater",
    "Cedar Peak",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Cyberdyne",
    "Wonka",
    "Oceanic",
    "Gringotts",
    "Monarch",
    "Pinnacle",
    "Redwood",
    "Silverline",
    "Bluebird",
];
pub const EN_TRADES: &[&str] = &[
    "Robotics",
    "Foods",
    "Logistics",
    "Systems",
    "Health",
    "Energy",
    "Labs",
    "Partners",
    "Motors",
    "Textiles",
    "Analytics",
    "Pharma",
];
const EN_FORMS: &[&str] = &["Inc.", "Ltd.", "LLC", "GmbH", "plc"];
pub const JA_PREFIXES: &[&str] = &[
    "日東",
    "東京",
    "大阪",
    "関西",
    "北陸",
    "中央",
    "富士",
    "三洋",
    "新日本",
    "港",
    "湘南",
    "九州",
    "名古屋",
    "横浜",
    "札幌",
    "瀬戸内",
];
pub const JA_TRADES: &[&str] = &[
    "電工",
    "精機",
    "食品",
    "物産",
    "電子",
    "化学",
    "工業",
    "商事",
    "建設",
    "製作所",
    "運輸",
    "薬品",
];
pub const EN_FIRST: &[&str] = &[
    "John", "Mary", "Robert", "Patricia", "Michael", "Linda", "David", "Susan", "James", "Karen",
    "Daniel", "Nancy", "Thomas", "Laura", "Kevin", "Emily",
];
pub const EN_LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "Wright",
];
pub const JA_LAST: &[&str] = &[
    "鈴木", "佐藤", "田中", "高橋", "渡辺", "伊藤", "山本", "中村", "小林", "加藤", "吉田", "山田",
];
const JA_FIRST: &[&str] = &[
    "一郎", "花子", "健太", "美咲", "翔太", "陽子", "大輔", "由美",
];
const PRODUCTS: &[&str] = &[
    "fleet analytics",
    "warehouse robots",
    "cold-chain sensors",
    "billing portal",
    "support plan",
];
const CITIES: &[&str] = &[
    "Osaka", "Tokyo", "Fremont", "Seattle", "London", "Berlin", "Nagoya",
];
const JA_CITIES: &[&str] = &["東京都", "大阪府", "名古屋市", "横浜市", "福岡市", "札幌市"];
const JA_PRODUCTS: &[&str] = &[
    "生産管理システム",
    "在庫管理",
    "請求書発行",
    "保守契約",
    "物流センター",
];
const EN_SENTENCES: &[&str] = &[
    "Discussed the renewal of the {p} contract with {n}.",
    "Customer reported a billing dispute about invoice {k}.",
    "Shipment to the {c} warehouse was delayed by two days.",
    "Asked for a discount on the {p} for next year.",
    "Escalated the support ticket about {p} outages in {c}.",
    "Sent the corrected invoice and a credit note for {k}.",
    "Kickoff meeting planned at the {c} office with procurement.",
    "They are evaluating a competitor for the {p}.",
];
const JA_SENTENCES: &[&str] = &[
    "{n}様と{p}の更新について打ち合わせ。",
    "請求書{k}の金額について問い合わせあり。",
    "{c}の倉庫への出荷が二日遅れている。",
    "来期の{p}について値引きの相談を受けた。",
    "{c}の事業所で購買部とキックオフを予定。",
    "{p}の障害についてサポート窓口にエスカレーション。",
];
const COUNTRIES: &[&str] = &["US", "JP", "JP", "GB", "DE", "US", "FR"];
const STAGES: &[&str] = &["open", "negotiation", "won", "lost"];
const TAGS: &[&str] = &[
    "enterprise",
    "smb",
    "priority",
    "churn-risk",
    "partner",
    "japan",
];
const OWNERS: &[&str] = &[
    "David Chen",
    "Keiko Tanaka",
    "Sam Okafor",
    "鈴木 一郎",
    "Maria Rossi",
];
const PLANS: &[&str] = &["gold", "silver", "bronze"];

struct Customer {
    id: String,
    name: String,
    kind: &'static str,
    country: &'static str,
    japanese: bool,
    domain: String,
}

fn customer(rng: &mut Rng, n: usize) -> Customer {
    let country = COUNTRIES[rng.below(COUNTRIES.len())];
    let japanese = country == "JP";
    let person = rng.below(5) == 0;
    let name = match (japanese, person) {
        (true, false) => format!("{}{}株式会社", rng.pick(JA_PREFIXES), rng.pick(JA_TRADES)),
        (true, true) => format!("{} {}", rng.pick(JA_LAST), rng.pick(JA_FIRST)),
        (false, false) => format!(
            "{} {} {}",
            rng.pick(EN_BRANDS),
            rng.pick(EN_TRADES),
            rng.pick(EN_FORMS)
        ),
        (false, true) => format!("{} {}", rng.pick(EN_FIRST), rng.pick(EN_LAST)),
    };
    Customer {
        id: format!("C{n:07}"),
        name,
        kind: if person { "person" } else { "organization" },
        country,
        japanese,
        domain: format!("c{n}.example.com"),
    }
}

fn sentence(rng: &mut Rng, japanese: bool) -> String {
    let template = if japanese {
        rng.pick(JA_SENTENCES)
    } else {
        rng.pick(EN_SENTENCES)
    };
    let person = if japanese {
        rng.pick(JA_LAST).to_string()
    } else {
        format!("{} {}", rng.pick(EN_FIRST), rng.pick(EN_LAST))
    };
    let (product, city) = if japanese {
        (rng.pick(JA_PRODUCTS), rng.pick(JA_CITIES))
    } else {
        (rng.pick(PRODUCTS), rng.pick(CITIES))
    };
    template
        .replace("{p}", product)
        .replace("{c}", city)
        .replace("{n}", &person)
        .replace("{k}", &format!("INV-{}", rng.below(90_000) + 10_000))
}

/// The records of the customers numbered `first..first + customers`.
pub fn generate(
    first: usize,
    customers: usize,
    records_per_customer: usize,
    seed: u64,
) -> Vec<Record> {
    let mut rng = Rng::new(seed ^ (first as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let base = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).single();
    let mut out = Vec::with_capacity(customers * records_per_customer);
    for n in first..first + customers {
        let c = customer(&mut rng, n);
        for r in 0..records_per_customer {
            let kind = match r {
                0 if c.kind == "person" => RecordKind::Person,
                0 => RecordKind::Organization,
                1 | 2 => RecordKind::Person,
                3 | 4 => RecordKind::Email,
                5 => RecordKind::Ticket,
                6 => RecordKind::Opportunity,
                _ => RecordKind::Note,
            };
            let mut rec = Record::new("bench", &format!("R{n:07}-{r}"), kind);
            rec.customer_id = Some(c.id.clone());
            rec.customer_name = Some(c.name.clone());
            rec.customer_kind = Some(c.kind.to_string());
            rec.customer_country = Some(c.country.to_string());
            rec.country = Some(c.country.to_string());
            rec.owner = Some(rng.pick(OWNERS).to_string());
            rec.created = base.map(|b| b + chrono::Duration::days(rng.below(1800) as i64));
            let japanese_text = c.japanese && rng.below(10) < 7;
            match kind {
                RecordKind::Organization | RecordKind::Person if r == 0 => {
                    rec.title = Some(c.name.clone());
                    rec.names = vec![c.name.clone()];
                    if c.kind == "organization" {
                        rec.company = Some(c.name.clone());
                    }
                    rec.emails = vec![format!("info@{}", c.domain)];
                    rec.phones = vec![phone(&mut rng, c.japanese)];
                    rec.tags = vec![rng.pick(TAGS).to_string(), rng.pick(TAGS).to_string()];
                    rec.attrs.insert("plan".into(), json!(rng.pick(PLANS)));
                    rec.body = Some(sentence(&mut rng, japanese_text));
                }
                RecordKind::Person => {
                    let name = if c.japanese {
                        format!("{} {}", rng.pick(JA_LAST), rng.pick(JA_FIRST))
                    } else {
                        format!("{} {}", rng.pick(EN_FIRST), rng.pick(EN_LAST))
                    };
                    rec.title = Some(name.clone());
                    rec.names = vec![name];
                    rec.company = Some(c.name.clone());
                    rec.emails = vec![format!("p{r}.{n}@{}", c.domain)];
                    rec.phones = vec![phone(&mut rng, c.japanese)];
                }
                RecordKind::Opportunity => {
                    rec.title = Some(format!("{} renewal", rng.pick(PRODUCTS)));
                    rec.amount = Some((rng.below(500) as f64 + 1.0) * 1000.0);
                    rec.currency = Some(if c.japanese { "JPY" } else { "USD" }.to_string());
                    rec.stage = Some(rng.pick(STAGES).to_string());
                    rec.body = Some(sentence(&mut rng, japanese_text));
                }
                _ => {
                    rec.title = Some(sentence(&mut rng, japanese_text));
                    let body: Vec<String> = (0..2 + rng.below(3))
                        .map(|_| sentence(&mut rng, japanese_text))
                        .collect();
                    rec.body = Some(body.join(" "));
                    rec.tags = vec![rng.pick(TAGS).to_string()];
                }
            }
            out.push(rec);
        }
    }
    out
}

/// Bytes of sentences in a long email's body.
const LONG_BODY_BYTES: usize = 100_000;
/// The word only long emails hold, near the end of their bodies.
pub const LONG_BODY_WORD: &str = "zircon";

/// Long emails (a thread quoted again and again: about [`LONG_BODY_BYTES`]
/// of sentences, and "zircon order Z-n" nine tenths of the way in) for the
/// first `count` customers of `records` (a [`generate`] result), carrying
/// those customers' golden fields.
pub fn long_emails(records: &[Record], count: usize, seed: u64) -> Vec<Record> {
    let mut out = Vec::new();
    for (i, org) in records
        .iter()
        .filter(|r| r.external_id.ends_with("-0"))
        .take(count)
        .enumerate()
    {
        let mut rng = Rng::new(seed ^ (i as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
        let japanese = org.customer_country.as_deref() == Some("JP");
        let mut rec = Record::new(
            "bench",
            &format!("{}-long", org.external_id),
            RecordKind::Email,
        );
        rec.customer_id = org.customer_id.clone();
        rec.customer_name = org.customer_name.clone();
        rec.customer_kind = org.customer_kind.clone();
        rec.customer_country = org.customer_country.clone();
        rec.country = org.country.clone();
        rec.owner = org.owner.clone();
        rec.created = org.created;
        rec.title = Some(format!("Re: Fwd: thread {}", org.external_id));
        let mut body = String::with_capacity(LONG_BODY_BYTES + 200);
        let mut marked = false;
        while body.len() < LONG_BODY_BYTES {
            if !marked && body.len() >= LONG_BODY_BYTES * 9 / 10 {
                body.push_str(&format!(
                    "The {LONG_BODY_WORD} order Z-{} was confirmed. ",
                    org.external_id
                ));
                marked = true;
            }
            let in_japanese = japanese && rng.below(2) == 0;
            body.push_str(&sentence(&mut rng, in_japanese));
            body.push(if rng.below(4) == 0 { '\n' } else { ' ' });
        }
        rec.body = Some(body);
        out.push(rec);
    }
    out
}

fn phone(rng: &mut Rng, japanese: bool) -> String {
    if japanese {
        format!("03{:08}", rng.below(100_000_000))
    } else {
        format!("+1415{:07}", rng.below(10_000_000))
    }
}
