//! The query language staff type: words, "quoted phrases", field:value,
//! field:"phrase", -exclusion, OR, AND, parentheses. Parsing never fails:
//! whatever cannot be understood (an unmatched parenthesis, a dangling OR,
//! an unclosed quote, an unknown field) is searched as plain words or left
//! out, and said in a warning.
//!
//! The one thing it refuses is nesting deeper than [`MAX_QUERY_DEPTH`]
//! parentheses ([`TooDeep`]): the parser and every walk of its tree recurse,
//! and a thread's stack is finite.
//!
//! It must never look at the index: it produces a syntax tree that
//! `query.rs` turns into tantivy queries.

use super::range_syntax::{looks_like_range, parse_range};
use super::request::Filter;

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A word or phrase, in the default fields or in one field.
    Text {
        field: Option<String>,
        text: String,
        phrase: bool,
        /// The last word typed: also matched as a prefix.
        prefix: bool,
    },
    /// `field:>10`, `field:[a TO b]`: a range on a number or date field.
    Range {
        field: String,
        range: Filter,
        /// As typed, for warnings.
        raw: String,
    },
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    /// `*`: every record.
    All,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Phrase(String),
    Field(String),
    Range(String, Filter),
    Open,
    Close,
    Minus,
    Or,
    And,
}

/// Splits the query into tokens. `is_field` says whether `name` before a
/// colon is a field one may search in.
fn lex(query: &str, is_field: &dyn Fn(&str) -> bool, warnings: &mut Vec<String>) -> Vec<Token> {
    let chars: Vec<char> = query.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            tokens.push(Token::Open);
            i += 1;
        } else if c == ')' {
            tokens.push(Token::Close);
            i += 1;
        } else if c == '"' {
            match chars[i + 1..].iter().position(|&d| d == '"') {
                Some(len) => {
                    let text: String = chars[i + 1..i + 1 + len].iter().collect();
                    if !text.trim().is_empty() {
                        tokens.push(Token::Phrase(text));
                    }
                    i += len + 2;
                }
                None => {
                    warnings
                        .push("ignored an unclosed `\"`: its words are searched one by one".into());
                    i += 1;
                }
            }
        } else if (c == '-' || c == '+')
            && chars.get(i + 1).is_some_and(|n| {
                !n.is_whitespace() && *n != ')' && !(c == '+' && n.is_ascii_digit())
            })
        {
            if c == '-' {
                tokens.push(Token::Minus);
            }
            i += 1;
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !"()\"".contains(chars[i]) {
                i += 1;
            }
            let mut word: String = chars[start..i].iter().collect();
            if let Some((name, value)) = word.split_once(':')
                && is_field(name)
                && looks_like_range(value)
            {
                // `[100 TO 500]` spans spaces: read up to its closing bracket.
                if value.starts_with(['[', '{']) && !value.ends_with([']', '}']) {
                    while i < chars.len() && !"]}".contains(chars[i]) {
                        i += 1;
                    }
                    i = (i + 1).min(chars.len());
                    word = chars[start..i].iter().collect();
                }
                let (name, value) = word.split_once(':').unwrap_or_default();
                match parse_range(value) {
                    Ok(range) => tokens.push(Token::Range(name.to_string(), range)),
                    Err(why) => warnings.push(format!("the range `{word}` {why}: ignored")),
                }
                continue;
            }
            match word.as_str() {
                "OR" | "||" | "|" => tokens.push(Token::Or),
                "AND" | "&&" => tokens.push(Token::And),
                "NOT" => tokens.push(Token::Minus),
                _ => match word.split_once(':') {
                    Some((name, value)) if is_field(name) => {
                        tokens.push(Token::Field(name.to_string()));
                        if !value.is_empty() {
                            tokens.push(Token::Word(value.to_string()));
                        }
                    }
                    Some((name, value))
                        if !value.is_empty()
                            && !name.is_empty()
                            && name
                                .chars()
                                .all(|c| c.is_ascii_alphabetic() || c == '_' || c == '.') =>
                    {
                        warnings.push(format!("unknown field `{name}`: searched `{word}` as text"));
                        tokens.push(Token::Word(word));
                    }
                    _ => tokens.push(Token::Word(word)),
                },
            }
        }
    }
    tokens
}

/// How many parentheses deep a query may nest. Deeper is refused before
/// parsing, so neither the parser nor any walk of its tree can run out of
/// stack (about 1,800 levels once did).
pub const MAX_QUERY_DEPTH: usize = 32;

/// A query nesting parentheses deeper than [`MAX_QUERY_DEPTH`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("nests parentheses {depth} deep; at most {MAX_QUERY_DEPTH} levels are allowed")]
pub struct TooDeep {
    pub depth: usize,
}

/// The deepest nesting of the tokens' parentheses (an unmatched `)` at the
/// top level does not count), found without recursion.
fn nesting_depth(tokens: &[Token]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for token in tokens {
        match token {
            Token::Open => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            Token::Close => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    warnings: Vec<String>,
}

/// Parses `query`; `None` when nothing searchable is left.
pub fn parse(
    query: &str,
    is_field: &dyn Fn(&str) -> bool,
) -> Result<(Option<Node>, Vec<String>), TooDeep> {
    let mut warnings = Vec::new();
    let tokens = lex(query, is_field, &mut warnings);
    let depth = nesting_depth(&tokens);
    if depth > MAX_QUERY_DEPTH {
        return Err(TooDeep { depth });
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
        warnings,
    };
    let mut root = parser.or_expr(None);
    while parser.pos < parser.tokens.len() {
        // Only an unmatched `)` stops or_expr at the top level.
        parser.warnings.push("ignored an unmatched `)`".into());
        parser.pos += 1;
        let rest = parser.or_expr(None);
        root = match (root, rest) {
            (Some(a), Some(b)) => Some(Node::And(vec![a, b])),
            (a, b) => a.or(b),
        };
    }
    if !query.ends_with(char::is_whitespace)
        && let Some(node) = root.as_mut()
    {
        mark_last_word(node);
    }
    Ok((root, parser.warnings))
}

/// Marks the query's last plain word (not quoted, not excluded) as a prefix.
fn mark_last_word(node: &mut Node) -> bool {
    match node {
        Node::Text {
            phrase: false,
            prefix,
            field: None,
            ..
        } => {
            *prefix = true;
            true
        }
        Node::And(children) | Node::Or(children) => children.last_mut().is_some_and(mark_last_word),
        _ => false,
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn or_expr(&mut self, field: Option<&str>) -> Option<Node> {
        let mut alternatives = Vec::new();
        let mut dangling = false;
        loop {
            if let Some(node) = self.and_expr(field) {
                alternatives.push(node);
                dangling = false;
            }
            if self.peek() == Some(&Token::Or) {
                self.pos += 1;
                if alternatives.is_empty() {
                    self.warnings
                        .push("ignored `OR` with nothing before it".into());
                }
                dangling = true;
                continue;
            }
            if dangling {
                self.warnings
                    .push("ignored `OR` with nothing after it".into());
            }
            break;
        }
        match alternatives.len() {
            0 => None,
            1 => alternatives.pop(),
            _ => Some(Node::Or(alternatives)),
        }
    }

    fn and_expr(&mut self, field: Option<&str>) -> Option<Node> {
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                None | Some(Token::Or) => break,
                Some(Token::Close) if self.depth > 0 => break,
                Some(Token::Close) => break,
                Some(Token::And) => {
                    self.pos += 1;
                }
                _ => {
                    if let Some(node) = self.unary(field) {
                        parts.push(node);
                    }
                }
            }
        }
        match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(Node::And(parts)),
        }
    }

    fn unary(&mut self, field: Option<&str>) -> Option<Node> {
        if self.peek() == Some(&Token::Minus) {
            self.pos += 1;
            return match self.primary(field) {
                Some(node) => Some(Node::Not(Box::new(node))),
                None => {
                    self.warnings
                        .push("ignored a `-` with nothing after it".into());
                    None
                }
            };
        }
        self.primary(field)
    }

    fn primary(&mut self, field: Option<&str>) -> Option<Node> {
        let token = self.peek()?.clone();
        self.pos += 1;
        let text = |text: String, phrase: bool| {
            if !phrase && text == "*" && field.is_none() {
                return Node::All;
            }
            Node::Text {
                field: field.map(str::to_string),
                text,
                phrase,
                prefix: false,
            }
        };
        match token {
            Token::Word(w) => Some(text(w, false)),
            Token::Phrase(p) => Some(text(p, true)),
            Token::Range(name, range) => {
                let raw = format!("{name}:{}", describe(&range));
                Some(Node::Range {
                    field: name,
                    range,
                    raw,
                })
            }
            Token::Open => {
                self.depth += 1;
                let inner = self.or_expr(field);
                self.depth -= 1;
                if self.peek() == Some(&Token::Close) {
                    self.pos += 1;
                } else {
                    self.warnings.push("added a missing `)` at the end".into());
                }
                if inner.is_none() {
                    self.warnings.push("ignored empty parentheses `()`".into());
                }
                inner
            }
            Token::Field(name) => match self.peek() {
                Some(Token::Word(_) | Token::Phrase(_) | Token::Open) => self.primary(Some(&name)),
                _ => {
                    self.warnings
                        .push(format!("ignored `{name}:` with no value after it"));
                    None
                }
            },
            Token::Close | Token::Or | Token::And | Token::Minus => {
                self.pos -= 1;
                None
            }
        }
    }
}

/// A range as the user would type it, for messages.
fn describe(range: &Filter) -> String {
    match range {
        Filter::Range { gte, gt, lte, lt } => {
            let low = match (gte, gt) {
                (Some(v), _) => format!("[{v}"),
                (None, Some(v)) => format!("{{{v}"),
                _ => "[*".into(),
            };
            let high = match (lte, lt) {
                (Some(v), _) => format!("{v}]"),
                (None, Some(v)) => format!("{v}}}"),
                _ => "*]".into(),
            };
            format!("{low} TO {high}")
        }
        Filter::Values(values) => values.join(","),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Node {
        Node::Text {
            field: None,
            text: text.into(),
            phrase: false,
            prefix: false,
        }
    }

    fn parse_ok(query: &str, is_field: &dyn Fn(&str) -> bool) -> (Option<Node>, Vec<String>) {
        parse(query, is_field).unwrap()
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused_not_recursed() {
        let at_limit = format!(
            "{}a{}",
            "(".repeat(MAX_QUERY_DEPTH),
            ")".repeat(MAX_QUERY_DEPTH)
        );
        let (node, _) = parse_ok(&at_limit, &fields);
        assert!(matches!(node, Some(Node::Text { .. })), "{node:?}");
        let deep = format!("{}a", "(".repeat(100_000));
        assert_eq!(parse(&deep, &fields), Err(TooDeep { depth: 100_000 }));
        // Parentheses inside quotes and unmatched `)` are not nesting.
        let quoted = format!("\"{}\" a{}", "(".repeat(500), ")".repeat(500));
        assert!(parse(&quoted, &fields).is_ok());
    }

    fn fields(name: &str) -> bool {
        ["country", "attrs.plan"].contains(&name)
    }

    #[test]
    fn words_phrases_fields_exclusion_or_and_groups() {
        let (node, warnings) = parse_ok(
            "invoice -draft (osaka OR kyoto) country:JP \"late payment\" ",
            &fields,
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let Some(Node::And(parts)) = node else {
            panic!("{node:?}")
        };
        assert_eq!(parts[0], t("invoice"));
        assert_eq!(parts[1], Node::Not(Box::new(t("draft"))));
        assert_eq!(parts[2], Node::Or(vec![t("osaka"), t("kyoto")]));
        assert!(
            matches!(&parts[3], Node::Text { field: Some(f), text, .. } if f == "country" && text == "JP")
        );
        assert!(
            matches!(&parts[4], Node::Text { phrase: true, text, .. } if text == "late payment")
        );
    }

    #[test]
    fn broken_syntax_still_searches_the_words_and_warns() {
        let (node, warnings) = parse_ok("invoice AND (", &fields);
        assert!(
            matches!(node, Some(Node::Text { field: None, ref text, .. }) if text == "invoice"),
            "{node:?}"
        );
        assert!(!warnings.is_empty());
        let (node, warnings) = parse_ok("a ) b OR", &fields);
        assert!(
            node.is_some() && warnings.len() == 2,
            "{node:?} {warnings:?}"
        );
        let (_, warnings) = parse_ok("colour:red", &fields);
        assert!(warnings[0].contains("colour"), "{warnings:?}");
    }

    #[test]
    fn ranges_in_the_query_become_range_nodes() {
        let (node, warnings) = parse_ok("invoice country:[100 TO 500] country:>=7", &fields);
        assert!(warnings.is_empty(), "{warnings:?}");
        let Some(Node::And(parts)) = node else {
            panic!("{node:?}")
        };
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert!(
            matches!(&parts[1], Node::Range { field, range: Filter::Range { gte: Some(l), lte: Some(h), .. }, .. } if field == "country" && l == "100" && h == "500")
        );
        assert!(
            matches!(&parts[2], Node::Range { range: Filter::Range { gte: Some(l), .. }, .. } if l == "7")
        );
        let (node, warnings) = parse_ok("invoice country:[100 500]", &fields);
        assert!(matches!(node, Some(Node::Text { .. })), "{node:?}");
        assert!(warnings[0].contains("country:[100 500]"), "{warnings:?}");
    }

    #[test]
    fn the_last_word_is_a_prefix_unless_followed_by_a_space() {
        let (node, _) = parse_ok("acme rob", &fields);
        let Some(Node::And(parts)) = node else {
            panic!()
        };
        assert!(matches!(&parts[1], Node::Text { prefix: true, .. }));
        let (node, _) = parse_ok("acme rob ", &fields);
        let Some(Node::And(parts)) = node else {
            panic!()
        };
        assert!(matches!(&parts[1], Node::Text { prefix: false, .. }));
    }
}
