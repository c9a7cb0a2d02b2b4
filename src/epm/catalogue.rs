//! The interface catalogue: `data/interfaces.tsv`, compiled in with `include_str!` and parsed
//! here, once. Pure: text in, rows out. [`super::names`] labels endpoints from it, the dump table
//! and the reports show its risk [`Tag`]s, and the `interfaces` command probes the interfaces it
//! tags (see `docs/guide/interfaces.md`).
//!
//! Grammar (the file's header says the same for a reader):
//! - `#@source KEY<TAB>CITATION` declares a source key; other `#` lines are comments;
//! - every other non-blank line is a row of 11 tab-separated columns: uuid, version (`M.m` or
//!   `*`), name, document, title, service, binaries, pipes, opnums, tags, sources; `-` is "not
//!   recorded";
//! - sources is `FIELD=KEY,KEY;FIELD=KEY`: every recorded field names where it comes from, a
//!   declared key or a protocol document (`MS-LSAD`, `MS-LSAD§1.9`, `C706`).
//!
//! A row that breaks a rule is an error naming its line; the unit tests hold the shipped file to
//! every rule, so [`get`] cannot fail in a released binary, and callers still treat a failure as
//! "not known" rather than panicking.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;
use uuid::Uuid;

/// The shipped catalogue's text.
pub const TEXT: &str = include_str!("../../data/interfaces.tsv");

/// A risk tag: what an attacker who can call the interface has been shown to do with it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Tag {
    /// A method makes the host authenticate to an address the caller chooses (PetitPotam,
    /// the printer bug, DFSCoerce, ShadowCoerce).
    Coercion,
    /// A method runs code or changes configuration remotely (services, tasks, WMI, registry).
    LateralMovement,
    /// A method hands out or resets secrets or keys.
    Credentials,
    /// Directory or SYSVOL replication.
    DomainReplication,
    /// Enumerates accounts, sessions or shares.
    Reconnaissance,
}

impl Tag {
    /// Every tag, in the order they are shown.
    pub const ALL: [Tag; 5] = [
        Tag::Coercion,
        Tag::Credentials,
        Tag::LateralMovement,
        Tag::DomainReplication,
        Tag::Reconnaissance,
    ];

    /// The name in the catalogue, the JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Tag::Coercion => "coercion",
            Tag::LateralMovement => "lateral-movement",
            Tag::Credentials => "credentials",
            Tag::DomainReplication => "domain-replication",
            Tag::Reconnaissance => "reconnaissance",
        }
    }

    /// The tag of this name.
    pub fn parse(name: &str) -> Option<Tag> {
        Tag::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Tags that make a reachable interface an error finding (`interface-exposed`).
    pub fn is_severe(self) -> bool {
        matches!(self, Tag::Coercion | Tag::Credentials)
    }
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields a row's sources column speaks for.
const FIELDS: [&str; 7] = [
    "name", "version", "service", "binaries", "pipes", "opnums", "tags",
];

/// One interface of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub uuid: Uuid,
    /// `(major, minor)` when a source gives it.
    pub version: Option<(u16, u16)>,
    pub name: Option<&'static str>,
    /// "MS-SAMR", "MC-IISA", "C706"; `None` for a Windows-internal interface.
    pub document: Option<&'static str>,
    pub title: Option<&'static str>,
    pub service: Option<&'static str>,
    pub binaries: Vec<&'static str>,
    pub pipes: Vec<&'static str>,
    /// Number of methods of the server's dispatch table.
    pub opnums: Option<u16>,
    pub tags: Vec<Tag>,
    /// Field name to the sources of that field, as written.
    pub sources: BTreeMap<&'static str, Vec<&'static str>>,
    /// Line of the row in the file (1-based).
    pub line: usize,
}

impl Interface {
    /// "MS-SAMR samr", "MS-FSRM", "gpsvc.dll": what tables print for it.
    pub fn label(&self) -> String {
        match (self.document, self.name) {
            (Some(d), Some(n)) => format!("{d} {n}"),
            (Some(d), None) => d.to_string(),
            (None, Some(n)) => n.to_string(),
            (None, None) => self.uuid.to_string(),
        }
    }

    /// The row's sources as one line a reader can check: "name: MS-LSAD§1.9, impacket-protocols;
    /// tags: impacket-recon".
    pub fn cite(&self) -> String {
        self.sources
            .iter()
            .map(|(field, keys)| format!("{field}: {}", keys.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The parsed catalogue: rows sorted by UUID, and the declared sources.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catalogue {
    rows: Vec<Interface>,
    /// Key to citation.
    pub sources: BTreeMap<&'static str, &'static str>,
}

impl Catalogue {
    /// Every row, sorted by UUID.
    pub fn rows(&self) -> &[Interface] {
        &self.rows
    }

    /// The row of this UUID.
    pub fn lookup(&self, uuid: &Uuid) -> Option<&Interface> {
        self.rows
            .binary_search_by(|row| row.uuid.cmp(uuid))
            .ok()
            .and_then(|i| self.rows.get(i))
    }
}

/// Why the catalogue text cannot be read; names the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data/interfaces.tsv line {line}: {what}")]
pub struct CatalogueError {
    pub line: usize,
    pub what: String,
}

/// The shipped catalogue, parsed on first use.
pub fn get() -> Result<&'static Catalogue, &'static CatalogueError> {
    static PARSED: OnceLock<Result<Catalogue, CatalogueError>> = OnceLock::new();
    PARSED.get_or_init(|| parse(TEXT)).as_ref()
}

/// Parse catalogue text (the shipped file, or a test's).
pub fn parse(text: &'static str) -> Result<Catalogue, CatalogueError> {
    let mut sources = BTreeMap::new();
    let mut pending = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let err = |what: String| CatalogueError { line: n, what };
        if let Some(decl) = line.strip_prefix("#@source ") {
            let (key, citation) = decl
                .split_once('\t')
                .ok_or_else(|| err("a source needs a key, a tab and a citation".into()))?;
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(err(format!(
                    "source key {key:?}: letters, digits and '-' only"
                )));
            }
            if citation.trim().is_empty() {
                return Err(err(format!("source {key} has no citation")));
            }
            if sources.insert(key, citation).is_some() {
                return Err(err(format!("source {key} declared twice")));
            }
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        pending.push((n, line));
    }
    let mut rows = Vec::with_capacity(pending.len());
    for (n, line) in pending {
        rows.push(parse_row(n, line, &sources)?);
    }
    rows.sort_by_key(|row| row.uuid);
    let mut seen = HashSet::new();
    for row in &rows {
        if !seen.insert((row.uuid, row.version)) {
            return Err(CatalogueError {
                line: row.line,
                what: format!("{} listed twice with the same version", row.uuid),
            });
        }
    }
    // Several versions of one UUID would need lookups by version; the file has none yet, and the
    // binary search assumes it.
    if let Some(pair) = rows.windows(2).find(|w| w[0].uuid == w[1].uuid) {
        return Err(CatalogueError {
            line: pair[1].line,
            what: format!("{} has two rows; one row per UUID", pair[1].uuid),
        });
    }
    Ok(Catalogue { rows, sources })
}

fn opt(field: &'static str) -> Option<&'static str> {
    (field != "-").then_some(field)
}

fn list(field: &'static str) -> Vec<&'static str> {
    opt(field)
        .map(|f| f.split(',').collect())
        .unwrap_or_default()
}

/// A document reference as a source: "MS-LSAD", "MC-IISA", "C706", with "§1.9" optionally.
fn is_document_ref(key: &str) -> bool {
    let (doc, section) = match key.split_once('§') {
        Some((d, s)) => (d, Some(s)),
        None => (key, None),
    };
    let doc_ok = doc == "C706"
        || ((doc.starts_with("MS-") || doc.starts_with("MC-"))
            && doc.len() > 3
            && doc[3..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    let section_ok =
        section.is_none_or(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.'));
    doc_ok && section_ok
}

fn parse_row(
    n: usize,
    line: &'static str,
    declared: &BTreeMap<&'static str, &'static str>,
) -> Result<Interface, CatalogueError> {
    let err = |what: String| CatalogueError { line: n, what };
    let cols: Vec<&'static str> = line.split('\t').collect();
    let [
        uuid,
        version,
        name,
        document,
        title,
        service,
        binaries,
        pipes,
        opnums,
        tags,
        srcs,
    ] = cols[..]
    else {
        return Err(err(format!("{} columns, not 11", cols.len())));
    };
    for (i, c) in cols.iter().enumerate() {
        if c.is_empty() || c.trim() != *c {
            return Err(err(format!("column {} is empty or padded", i + 1)));
        }
        if !c
            .chars()
            .all(|ch| ch == ' ' || ch.is_ascii_graphic() || ch == '§')
        {
            return Err(err(format!(
                "column {} has a control or non-ASCII character",
                i + 1
            )));
        }
    }
    let id = Uuid::parse_str(uuid).map_err(|e| err(format!("uuid {uuid:?}: {e}")))?;
    if id.hyphenated().to_string() != uuid {
        return Err(err(format!(
            "uuid {uuid:?} is not lowercase and hyphenated"
        )));
    }
    let version = match version {
        "*" => None,
        v => {
            let parsed = v
                .split_once('.')
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
            Some(parsed.ok_or_else(|| err(format!("version {v:?} is not M.m or *")))?)
        }
    };
    let name = opt(name);
    if name.is_some_and(|n| n.contains(' ')) {
        return Err(err(format!("name {name:?} has a space")));
    }
    let document = opt(document);
    if let Some(d) = document
        && (!is_document_ref(d) || d.contains('§'))
    {
        return Err(err(format!(
            "document {d:?} is not MS-xxxx, MC-xxxx or C706"
        )));
    }
    if name.is_none() && document.is_none() {
        return Err(err("a row needs a name or a document".into()));
    }
    let binaries = list(binaries);
    for b in &binaries {
        let lower = b.to_ascii_lowercase();
        if !(lower.ends_with(".dll") || lower.ends_with(".exe")) || b.contains(' ') {
            return Err(err(format!("binary {b:?} is not a .dll or .exe")));
        }
    }
    let pipes = list(pipes);
    for p in &pipes {
        let lower = p.to_ascii_lowercase();
        let rest = lower.strip_prefix("\\pipe\\").unwrap_or_default();
        if rest.is_empty() || rest.contains('\\') || rest.contains(' ') {
            return Err(err(format!("pipe {p:?} is not \\pipe\\NAME")));
        }
    }
    let opnums = match opt(opnums) {
        None => None,
        Some(o) => Some(
            o.parse::<u16>()
                .ok()
                .filter(|&c| c > 0)
                .ok_or_else(|| err(format!("opnums {o:?} is not a count")))?,
        ),
    };
    let mut tag_list = Vec::new();
    for t in list(tags) {
        let tag = Tag::parse(t).ok_or_else(|| err(format!("unknown tag {t:?}")))?;
        if tag_list.contains(&tag) {
            return Err(err(format!("tag {t} twice")));
        }
        tag_list.push(tag);
    }
    let mut sources: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    for part in srcs.split(';') {
        let (field, keys) = part
            .split_once('=')
            .ok_or_else(|| err(format!("source {part:?} is not FIELD=KEY,...")))?;
        let field = FIELDS
            .into_iter()
            .find(|f| *f == field)
            .ok_or_else(|| err(format!("source for unknown field {field:?}")))?;
        let keys: Vec<&'static str> = keys.split(',').collect();
        for k in &keys {
            if !declared.contains_key(k) && !is_document_ref(k) {
                return Err(err(format!("source {k:?} of {field} is not declared")));
            }
        }
        if sources.insert(field, keys).is_some() {
            return Err(err(format!("sources of {field} given twice")));
        }
    }
    let recorded = [
        ("name", true),
        ("version", version.is_some()),
        ("service", opt(service).is_some()),
        ("binaries", !binaries.is_empty()),
        ("pipes", !pipes.is_empty()),
        ("opnums", opnums.is_some()),
        ("tags", !tag_list.is_empty()),
    ];
    for (field, present) in recorded {
        match (present, sources.contains_key(field)) {
            (true, false) => return Err(err(format!("{field} has no source"))),
            (false, true) => {
                return Err(err(format!("a source for {field}, which is not recorded")));
            }
            _ => {}
        }
    }
    Ok(Interface {
        uuid: id,
        version,
        name,
        document,
        title: opt(title),
        service: opt(service),
        binaries,
        pipes,
        opnums,
        tags: tag_list,
        sources,
        line: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> &'static Catalogue {
        match get() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn every_row_parses_with_sources_and_valid_fields() {
        // `parse` enforces the field rules and that every recorded field has a declared source.
        let c = shipped();
        assert!(c.rows().len() >= 500, "only {} interfaces", c.rows().len());
        for row in c.rows() {
            assert!(row.sources.contains_key("name"), "line {}", row.line);
        }
        // Every declared source is used by some row.
        for key in c.sources.keys() {
            assert!(
                c.rows()
                    .iter()
                    .any(|r| r.sources.values().any(|ks| ks.contains(key))),
                "source {key} declared but unused"
            );
        }
    }

    #[test]
    fn rows_are_sorted_unique_and_found() {
        let c = shipped();
        for pair in c.rows().windows(2) {
            assert!(pair[0].uuid < pair[1].uuid);
        }
        for row in c.rows() {
            assert_eq!(c.lookup(&row.uuid), Some(row));
        }
        assert!(c.lookup(&Uuid::nil()).is_none());
    }

    #[test]
    fn the_interfaces_that_matter_are_tagged() {
        let c = shipped();
        let tags = |id: &str| {
            let row = c.lookup(&Uuid::parse_str(id).unwrap()).unwrap();
            row.tags.clone()
        };
        // MS-EFSR (both UUIDs), MS-RPRN, MS-DFSNM, MS-FSRVP, MS-EVEN: coercion.
        for id in [
            "c681d488-d850-11d0-8c52-00c04fd90f7e",
            "df1941c5-fe89-4e79-bf10-463657acf44d",
            "12345678-1234-abcd-ef00-0123456789ab",
            "4fc742e0-4a10-11cf-8273-00aa004ae673",
            "a8e0653c-2744-4389-a61d-7373df8b2292",
            "82273fdc-e32a-18c3-3f78-827929dc23ea",
        ] {
            assert!(tags(id).contains(&Tag::Coercion), "{id}");
        }
        let drsr = tags("e3514235-4b06-11d1-ab04-00c04fc2dcd2");
        assert!(drsr.contains(&Tag::Credentials) && drsr.contains(&Tag::DomainReplication));
        assert!(tags("367abb81-9844-35f1-ad32-98f038001003").contains(&Tag::LateralMovement));
        assert!(tags("86d35949-83c9-4044-b424-db363231fd0c").contains(&Tag::LateralMovement));
        let efs = c
            .lookup(&Uuid::parse_str("df1941c5-fe89-4e79-bf10-463657acf44d").unwrap())
            .unwrap();
        assert_eq!(efs.pipes, ["\\pipe\\efsrpc"]);
        assert_eq!(efs.version, Some((1, 0)));
        assert!(efs.cite().contains("tags: coercer"), "{}", efs.cite());
    }

    fn parse_one(row: &'static str) -> Result<Catalogue, CatalogueError> {
        let text: &'static str =
            Box::leak(format!("#@source s\tcitation\n{row}\n").into_boxed_str());
        parse(text)
    }

    const GOOD: &str = "12345778-1234-abcd-ef00-0123456789ac\t1.0\tsamr\tMS-SAMR\tt\t-\tsamsrv.dll\t\\pipe\\samr\t3\treconnaissance\tname=MS-SAMR;version=s;binaries=s;pipes=s;opnums=s;tags=s";

    #[test]
    fn a_good_row_parses() {
        let c = parse_one(GOOD).unwrap();
        let row = &c.rows()[0];
        assert_eq!(row.label(), "MS-SAMR samr");
        assert_eq!(row.opnums, Some(3));
        assert_eq!(row.line, 2);
    }

    #[test]
    fn broken_rows_are_refused_naming_the_line() {
        let cases: [(&str, &str); 12] = [
            (";binaries=s", ";binaries=nope"),  // undeclared source
            (";binaries=s", ""),                // a recorded field without a source
            ("\treconnaissance", "\tworm"),     // unknown tag
            ("\t1.0\t", "\t1.x\t"),             // bad version
            ("samsrv.dll", "samsrv.sys"),       // not a module
            ("\\pipe\\samr", "samr"),           // not a pipe
            ("\t3\t", "\t0\t"),                 // zero opnums
            ("0123456789ac", "0123456789AC"),   // not lowercase
            ("\tMS-SAMR\t", "\tSAMR\t"),        // not a document
            ("\tt\t", "\t \t"),                 // padded
            ("name=MS-SAMR", "name=MS-SAMR§x"), // bad section
            ("\tsamr\t", "\tsa mr\t"),          // space in a name
        ];
        for (from, to) in cases {
            let row: &'static str = Box::leak(GOOD.replacen(from, to, 1).into_boxed_str());
            assert_ne!(row, GOOD, "{from} not in the row");
            let e = parse_one(row).expect_err(row);
            assert_eq!(e.line, 2, "{e}");
        }
        let twice: &'static str = Box::leak(format!("{GOOD}\n{GOOD}").into_boxed_str());
        assert!(parse_one(twice).unwrap_err().what.contains("twice"));
        assert!(parse_one("a\tb").unwrap_err().what.contains("columns"));
    }

    /// The UUIDs of a `fixtures/epm/*.txt` list: the first word of every line that is neither
    /// blank nor a `#` comment.
    fn fixture_uuids(file: &str) -> Vec<Uuid> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/epm")
            .join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| Uuid::parse_str(l.split_whitespace().next().unwrap_or_default()).unwrap())
            .collect()
    }

    /// At least 95 % of the interfaces seen on a real host are in the catalogue.
    fn assert_covers(file: &str, at_least: usize) {
        let ids = fixture_uuids(file);
        assert!(
            ids.len() >= at_least,
            "{file}: only {} interfaces",
            ids.len()
        );
        let missing: Vec<String> = ids
            .iter()
            .filter(|id| shipped().lookup(id).is_none())
            .map(Uuid::to_string)
            .collect();
        let known = ids.len() - missing.len();
        assert!(
            known * 100 >= ids.len() * 95,
            "{file}: {known} of {} interfaces catalogued (< 95 %); missing: {}",
            ids.len(),
            missing.join(", ")
        );
    }

    #[test]
    fn covers_a_domain_controller() {
        assert_covers("windows-dc.txt", 45);
    }

    #[test]
    fn covers_a_member_server() {
        assert_covers("windows-member.txt", 80);
    }
}
