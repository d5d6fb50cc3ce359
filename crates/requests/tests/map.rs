//! The dataset map: parsing (errors that name where, hostile files), the checked-in
//! JSON Schema, validation reporting every problem at once, and the link graph.

use ferry_requests::map::{self, IdentityKind, MapError, Origin, Problem, Step};
use std::path::Path;

fn shop_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/requests/shop-map.toml")
}

fn shop() -> map::DatasetMap {
    map::load(&shop_path()).expect("the example shop map parses")
}

fn invalid(text: &str) -> Vec<String> {
    match map::parse(text) {
        Err(MapError::Invalid(errors)) => errors,
        other => panic!("expected field errors, got {other:?}"),
    }
}

const MINIMAL: &str = r#"
[[database]]
name = "main"
url = "sqlite:main.db"

[[database.table]]
name = "users"
identity = { email = "email" }

[[database.table.column]]
name = "email"
origin = "provided"
basis = "contract"
"#;

#[test]
fn the_example_shop_map_parses_and_is_valid() {
    let m = shop();
    assert_eq!(m.databases.len(), 1);
    let db = &m.databases[0];
    let names: Vec<&str> = db.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["customers", "orders", "order_items", "support_tickets", "recommendations"]);
    let customers = db.table("customers").unwrap();
    assert_eq!(customers.identity.get(&IdentityKind::Email).map(String::as_str), Some("email"));
    assert_eq!(customers.identity.get(&IdentityKind::CustomerId).map(String::as_str), Some("id"));
    assert_eq!(customers.column("fraud_score").unwrap().origin, Some(Origin::Inferred));
    assert!(db.table("support_tickets").unwrap().column("agent_notes").unwrap().others_data);
    // `automated` defaults to true
    assert!(customers.column("email").unwrap().automated);
    assert_eq!(map::validate(&m), Vec::<Problem>::new());
}

#[test]
fn a_minimal_map_parses() {
    let m = map::parse(MINIMAL).unwrap();
    assert_eq!(m.databases[0].tables[0].columns[0].name, "email");
    assert!(map::validate(&m).is_empty());
}

#[test]
fn an_unknown_column_key_names_database_table_and_column() {
    let text = MINIMAL.replace("basis = \"contract\"", "basis = \"contract\"\ncolour = \"red\"");
    let errors = invalid(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("database \"main\", table \"users\", column \"email\": unknown field `colour`"), "{}", errors[0]);
}

#[test]
fn a_bad_origin_or_basis_value_is_named_with_its_column() {
    let text = MINIMAL.replace("origin = \"provided\"", "origin = \"guessed\"");
    let errors = invalid(&text);
    assert!(errors[0].contains("column \"email\"") && errors[0].contains("guessed"), "{errors:?}");
    let text = MINIMAL.replace("basis = \"contract\"", "basis = \"vibes\"");
    assert!(invalid(&text)[0].contains("vibes"));
}

#[test]
fn every_field_error_is_reported_at_once() {
    let text = r#"
[[database]]
name = "main"
url = "sqlite:x"
port = 5

[[database.table]]
name = "a"
identity = { fingerprint = "fp" }

[[database.table.column]]
name = "x"
automated = "yes"

[[database.table]]
name = "b"

[[database.table.column]]
origin = "provided"
"#;
    let errors = invalid(text);
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(errors[0].starts_with("database \"main\": unknown field `port`"), "{}", errors[0]);
    assert!(errors[1].starts_with("database \"main\", table \"a\": unknown variant `fingerprint`"), "{}", errors[1]);
    assert!(errors[2].starts_with("database \"main\", table \"a\", column \"x\":"), "{}", errors[2]);
    assert!(errors[3].starts_with("database \"main\", table \"b\", column #1: missing field `name`"), "{}", errors[3]);
}

#[test]
fn wrong_shapes_are_refused_with_a_clear_error() {
    assert_eq!(invalid(""), ["the map has no `[[database]]` section"]);
    assert!(invalid("database = 3")[0].contains("must be a list of `[[database]]` sections, not a integer"));
    assert!(invalid("database = [1]")[0].contains("`database` #1 must be a table"));
    assert!(
        invalid("[[database]]\nname = \"d\"\nurl = \"sqlite:x\"\ntable = \"t\"")[0].starts_with("database \"d\": `table` must be a list")
    );
    assert!(invalid("[tables]\nx = 1")[0].contains("unknown key `tables`"));
}

#[test]
fn malformed_and_truncated_toml_is_a_syntax_error_with_its_line() {
    let full = std::fs::read_to_string(shop_path()).unwrap();
    // cut inside a string on some line well into the file
    let cut = full.find("The order number.").unwrap() + 5;
    match map::parse(&full[..cut]) {
        Err(MapError::Syntax(msg)) => assert!(msg.contains("line"), "{msg}"),
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert!(matches!(map::parse("[[database]\nname = 1"), Err(MapError::Syntax(_))));
    assert!(matches!(map::parse("name = \"a\"\nname = \"b\""), Err(MapError::Syntax(_))));
}

#[test]
fn deeply_nested_input_is_refused_before_parsing() {
    let deep = format!("x = {}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(map::parse(&deep), Err(MapError::TooDeep { line: 1, limit: map::parse::MAX_NESTING }));
    let deep_tables = format!("x = {}{}", "{ a = ".repeat(50), "1 }".repeat(50));
    assert!(matches!(map::parse(&deep_tables), Err(MapError::TooDeep { .. })));
    // an unclosed string does not hide what follows it on later lines
    let hidden = format!("a = \"open\nx = {}1{}\n\"", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(map::parse(&hidden), Err(MapError::TooDeep { line: 2, limit: map::parse::MAX_NESTING }));
    let hidden = format!("a = 'open\nx = {}1{}\n'", "{ b = ".repeat(100_000), "}".repeat(100_000));
    assert!(matches!(map::parse(&hidden), Err(MapError::TooDeep { line: 2, .. })));
    // a backslash at the very end, or before a line's end, of a one-line string (found
    // by tests/fuzz.rs: the scan once read past the end)
    assert!(matches!(map::parse("a = \"abc\\"), Err(MapError::Syntax(_))));
    assert!(matches!(map::parse("a = \"\"\"abc\\"), Err(MapError::Syntax(_))));
    let hidden = format!("a = \"open\\\nx = {}1{}", "[".repeat(1000), "]".repeat(1000));
    assert!(matches!(map::parse(&hidden), Err(MapError::TooDeep { line: 2, .. })));
    // brackets inside strings and comments do not count
    let quoted = format!("{MINIMAL}\n# {}\n", "[".repeat(100));
    let quoted = quoted.replace("name = \"email\"\norigin", &format!("name = \"email\"\ndescription = \"{}\"\norigin", "{[".repeat(100)));
    assert!(map::parse(&quoted).is_ok());
}

#[test]
fn a_huge_map_is_refused() {
    let huge = format!("{MINIMAL}\n# {}\n", "x".repeat(map::MAX_MAP_BYTES));
    assert!(matches!(map::parse(&huge), Err(MapError::TooLarge { .. })));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    std::fs::write(&path, &huge).unwrap();
    assert!(matches!(map::load(&path), Err(MapError::TooLarge { .. })));
    assert!(matches!(map::load(&dir.path().join("missing.toml")), Err(MapError::Read { .. })));
}

#[test]
fn the_checked_in_json_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/dataset-map.schema.json");
    let want = serde_json::to_string_pretty(&map::json_schema()).unwrap() + "\n";
    if std::env::var_os("FERRY_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "schemas/dataset-map.schema.json is stale: FERRY_BLESS=1 cargo test -p ferry-requests --test map the_checked_in_json_schema_is_current"
    );
    let schema: serde_json::Value = serde_json::from_str(&have).unwrap();
    assert!(schema.to_string().contains("\"inferred\""));
}

const BROKEN: &str = r#"
[[database]]
name = "main"
url = "sqlite:main.db"

[[database.table]]
name = "users"
identity = { email = "email" }
[[database.table.column]]
name = "email"
origin = "provided"
basis = "contract"
[[database.table.column]]
name = "email"
origin = "provided"

[[database.table]]
name = "orders"
links = { user_id = "userz.id", coupon = "nodot" }
[[database.table.column]]
name = "total"
basis = "contract"

[[database.table]]
name = "orders"
links = { order_id = "users.order_id" }
[[database.table.column]]
name = "x"
origin = "observed"
basis = "contract"

[[database.table]]
name = "island"
links = { other = "island2.id" }
[[database.table.column]]
name = "y"
origin = "observed"
basis = "contract"

[[database.table]]
name = "island2"
[[database.table.column]]
name = "id"
origin = "observed"
basis = "contract"

[[database]]
name = "main"
url = "oracle://x"
"#;

#[test]
fn validate_reports_every_problem_at_once_naming_where() {
    let m = map::parse(BROKEN).unwrap();
    let got: Vec<String> = map::validate(&m).iter().map(ToString::to_string).collect();
    let want = [
        "database \"main\": it has no tables",
        "database \"main\": its url must start with postgres://, postgresql://, mysql://, mariadb://, sqlite: or env:",
        "database \"main\": two databases have this name",
        "database \"main\", table \"island\": unreachable: no table with identity columns leads to it through links",
        "database \"main\", table \"island2\": unreachable: no table with identity columns leads to it through links",
        "database \"main\", table \"orders\": two tables have this name",
        "database \"main\", table \"orders\", column \"coupon\": its link target `nodot` is not of the form table.column",
        "database \"main\", table \"orders\", column \"order_id\": it links to `users.order_id`, but table \"users\" has no column \"order_id\" in the map (declare it, or name it as an identity or link column)",
        "database \"main\", table \"orders\", column \"total\": it has no origin (provided, observed or inferred)",
        "database \"main\", table \"orders\", column \"user_id\": it links to `userz.id`, but the database has no table \"userz\" in the map",
        "database \"main\", table \"users\", column \"email\": it has no legal basis (consent, contract, legal_obligation, vital_interests, public_task or legitimate_interests)",
        "database \"main\", table \"users\", column \"email\": two columns have this name",
    ];
    assert_eq!(got, want);
}

#[test]
fn a_url_may_name_an_environment_variable() {
    let ok = MINIMAL.replace("sqlite:main.db", "env:SHOP_DATABASE_URL");
    assert!(map::validate(&map::parse(&ok).unwrap()).is_empty());
    let bad = MINIMAL.replace("sqlite:main.db", "env:SHOP DB");
    let problems = map::validate(&map::parse(&bad).unwrap());
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.contains("must name an environment variable"), "{}", problems[0]);
}

#[test]
fn a_database_without_identity_tables_is_reported() {
    let text = MINIMAL.replace("identity = { email = \"email\" }", "");
    let problems = map::validate(&map::parse(&text).unwrap());
    assert!(problems.iter().any(|p| p.message.starts_with("no table has identity columns")), "{problems:?}");
    assert!(problems.iter().any(|p| p.table.as_deref() == Some("users") && p.message.starts_with("unreachable")));
}

fn step(from: &str, to: &str) -> Step {
    let (ft, fc) = from.split_once('.').unwrap();
    let (tt, tc) = to.split_once('.').unwrap();
    Step { from_table: ft.into(), from_column: fc.into(), to_table: tt.into(), to_column: tc.into() }
}

#[test]
fn links_are_followed_both_ways_many_levels_deep() {
    let m = shop();
    let reach = map::graph::reach(&m.databases[0]);
    assert!(reach.unreachable.is_empty());
    let order: Vec<(&str, usize)> = reach.order.iter().map(|r| (r.table.as_str(), r.depth)).collect();
    assert_eq!(order, [("customers", 0), ("orders", 1), ("support_tickets", 1), ("recommendations", 1), ("order_items", 2)]);
    // order_items links to orders, orders to customers: reached backwards, two joins deep
    assert_eq!(
        reach.get("order_items").unwrap().path,
        [step("customers.id", "orders.customer_id"), step("orders.id", "order_items.order_id")]
    );
}

#[test]
fn a_chain_reached_from_its_far_end_follows_links_forwards() {
    // a → b → c → d by links, identity only on d: every table is reached, in reverse
    let mut text = String::from("[[database]]\nname = \"x\"\nurl = \"sqlite:x\"\n");
    for (name, link) in [("a", Some("b.id")), ("b", Some("c.id")), ("c", Some("d.id")), ("d", None)] {
        text += &format!("[[database.table]]\nname = \"{name}\"\n");
        if name == "d" {
            text += "identity = { username = \"login\" }\n";
        }
        if let Some(link) = link {
            text += &format!("links = {{ up = \"{link}\" }}\n");
        }
        text += "[[database.table.column]]\nname = \"id\"\norigin = \"observed\"\nbasis = \"contract\"\n";
    }
    let m = map::parse(&text).unwrap();
    assert_eq!(map::validate(&m), Vec::<Problem>::new());
    let reach = map::graph::reach(&m.databases[0]);
    let order: Vec<(&str, usize)> = reach.order.iter().map(|r| (r.table.as_str(), r.depth)).collect();
    assert_eq!(order, [("d", 0), ("c", 1), ("b", 2), ("a", 3)]);
    assert_eq!(reach.get("a").unwrap().path, [step("d.id", "c.up"), step("c.id", "b.up"), step("b.id", "a.up")]);
}

/// A database of `n` tables `t0`…, each linking to the one before; `t0` has identity.
fn chain(n: usize) -> String {
    let mut text = String::from("[[database]]\nname = \"x\"\nurl = \"sqlite:x\"\n");
    for i in 0..n {
        text += &format!("[[database.table]]\nname = \"t{i}\"\n");
        if i == 0 {
            text += "identity = { email = \"email\" }\n";
        } else {
            text += &format!("links = {{ prev = \"t{}.id\" }}\n", i - 1);
        }
        text += "[[database.table.column]]\nname = \"id\"\norigin = \"observed\"\nbasis = \"contract\"\n";
    }
    text
}

#[test]
fn join_paths_stop_at_the_depth_bound_and_say_so() {
    let m = map::parse(&chain(40)).unwrap();
    let reach = map::graph::reach(&m.databases[0]);
    assert_eq!(reach.order.len(), map::graph::MAX_JOIN_DEPTH + 1);
    assert_eq!(reach.order.last().unwrap().path.len(), map::graph::MAX_JOIN_DEPTH);
    assert!(reach.unreachable.is_empty());
    assert_eq!(reach.too_deep, (33..40).map(|i| format!("t{i}")).collect::<Vec<_>>());
    let problems = map::validate(&m);
    assert_eq!(problems.len(), 7, "{problems:?}");
    assert_eq!(
        problems[0].to_string(),
        "database \"x\", table \"t33\": reached only through more than 32 joins from a table with identity columns"
    );
}

#[test]
fn a_map_with_too_many_tables_is_refused_and_a_large_one_is_quick() {
    let err = map::parse(&chain(map::parse::MAX_TABLES + 1)).unwrap_err();
    assert_eq!(err, MapError::Invalid(vec![format!("the map describes 5001 tables, more than the {} allowed", map::parse::MAX_TABLES)]));
    let started = std::time::Instant::now();
    let m = map::parse(&chain(map::parse::MAX_TABLES)).unwrap();
    let problems = map::validate(&m);
    assert_eq!(problems.len(), map::parse::MAX_TABLES - 33);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "took {:?}", started.elapsed());
}

#[test]
fn deeply_dotted_keys_are_refused_by_the_parsers_recursion_limit() {
    let syntax = |text: String| match map::parse(&text) {
        Err(MapError::Syntax(msg)) => assert!(msg.contains("recursion limit"), "{msg}"),
        other => panic!("expected a syntax error, got {other:?}"),
    };
    syntax(format!("{} = 1", vec!["a"; 100_000].join(".")));
    syntax(format!("[{}]\nb = 1", vec!["a"; 100_000].join(".")));
    syntax(format!("[[database]]\nname = \"x\"\nurl = \"sqlite:x\"\n{} = 1", vec!["\"a\""; 100_000].join(" . ")));
}
