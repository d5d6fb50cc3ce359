//! Regimes as data and the scope they give over the example shop map.

use ferry_requests::deadline::{Period, Rule};
use ferry_requests::map;
use ferry_requests::regime::{Regime, RegimeError, Supplementary};
use ferry_requests::scope::{Decision, scope};
use ferry_requests::{Part, RequestKind};
use std::path::Path;

fn shop() -> map::DatasetMap {
    map::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/requests/shop-map.toml")).unwrap()
}

fn left_out(reason: &str) -> Decision {
    Decision::LeftOut { reason: reason.to_string() }
}

#[test]
fn the_built_in_regimes_load_with_their_deadline_rules() {
    let ids: Vec<String> = Regime::builtins().into_iter().map(|r| r.id).collect();
    assert_eq!(ids, ["gdpr", "uk-gdpr", "ccpa"]);
    let gdpr = Regime::builtin("gdpr").unwrap();
    assert_eq!(gdpr.deadline, Rule { period: Period::Months(1), extension: Some(Period::Months(2)), extensions: 1 });
    let ccpa = Regime::builtin("ccpa").unwrap();
    assert_eq!(ccpa.deadline, Rule { period: Period::Days(45), extension: Some(Period::Days(45)), extensions: 1 });
    assert_eq!(ccpa.access.as_ref().unwrap().lookback_months, Some(12));
    let uk = Regime::builtin("uk-gdpr").unwrap();
    assert!(uk.complaint_statement().contains("Information Commissioner's Office"));
    assert!(!uk.complaint_statement().contains("{authority}"));
    assert_eq!(uk.portability.as_ref().unwrap().origins, gdpr.portability.as_ref().unwrap().origins);
    assert_eq!(uk.portability.as_ref().unwrap().bases, gdpr.portability.as_ref().unwrap().bases);
    assert_ne!(uk.authority, gdpr.authority);
    assert_eq!(Regime::builtin("pipeda"), Err(RegimeError::Unknown("pipeda".into())));
}

#[test]
fn article_20_includes_provided_and_observed_data_on_consent_or_contract_only() {
    let s = scope(&shop(), &Regime::builtin("gdpr").unwrap(), RequestKind::Portability).unwrap();
    assert_eq!(s.parts.len(), 1);
    let p = s.part(Part::Portability).unwrap();
    assert_eq!(p.article, "Article 20 GDPR");
    assert_eq!(p.decision("customers", "email"), Some(&Decision::Included));
    assert_eq!(p.decision("customers", "newsletter"), Some(&Decision::Included)); // consent
    assert_eq!(p.decision("orders", "placed_at"), Some(&Decision::Included)); // observed
    let Some(Decision::LeftOut { reason }) = p.decision("customers", "fraud_score") else { panic!() };
    assert!(reason.starts_with("inferred data is outside Article 20(1)"), "{reason}");
    let Some(Decision::LeftOut { reason }) = p.decision("orders", "invoice_number") else { panic!() };
    assert!(reason.starts_with("data processed on the basis of legal obligation is outside Article 20(1)(a)"), "{reason}");
    // inferred on consent: the origin still leaves it out
    assert!(matches!(p.decision("recommendations", "product"), Some(Decision::LeftOut { .. })));
    // others' data provided on contract: covered, but withheld
    let Some(Decision::Withheld { reason }) = p.decision("support_tickets", "cc_recipients") else { panic!() };
    assert!(reason.contains("Article 20(4)"), "{reason}");
    // agent notes are inferred: left out before the question of others' data arises
    assert!(matches!(p.decision("support_tickets", "agent_notes"), Some(Decision::LeftOut { .. })));
}

#[test]
fn left_out_categories_are_listed_by_reason() {
    let s = scope(&shop(), &Regime::builtin("gdpr").unwrap(), RequestKind::Portability).unwrap();
    let p = s.part(Part::Portability).unwrap();
    let inferred = p.left_out.iter().find(|o| o.reason.starts_with("inferred")).unwrap();
    assert_eq!(
        inferred.columns,
        ["shop.customers.fraud_score", "shop.support_tickets.agent_notes", "shop.recommendations.product", "shop.recommendations.reason"]
    );
    assert_eq!(inferred.categories, ["customer service", "inferences"]);
    assert_eq!(p.left_out.len(), 2, "{:#?}", p.left_out);
    assert_eq!(p.withheld.len(), 1);
    assert_eq!(p.withheld[0].columns, ["shop.support_tickets.cc_recipients"]);
}

#[test]
fn data_processed_by_hand_is_outside_article_20_but_within_article_15() {
    let mut m = shop();
    m.databases[0].tables[0].columns[2].automated = false; // customers.name
    let s = scope(&m, &Regime::builtin("gdpr").unwrap(), RequestKind::Both).unwrap();
    assert_eq!(
        s.part(Part::Portability).unwrap().decision("customers", "name"),
        Some(&left_out("data not processed by automated means is outside Article 20(1)(b)"))
    );
    assert_eq!(s.part(Part::Access).unwrap().decision("customers", "name"), Some(&Decision::Included));
}

#[test]
fn article_15_includes_everything_withholds_others_data_and_lists_supplementary_information() {
    let s = scope(&shop(), &Regime::builtin("gdpr").unwrap(), RequestKind::Access).unwrap();
    let a = s.part(Part::Access).unwrap();
    assert!(a.left_out.is_empty());
    assert_eq!(a.decision("customers", "fraud_score"), Some(&Decision::Included));
    assert_eq!(a.decision("orders", "invoice_number"), Some(&Decision::Included));
    let Some(Decision::Withheld { reason }) = a.decision("support_tickets", "agent_notes") else { panic!() };
    assert!(reason.contains("Article 15(4)"));
    for info in
        [Supplementary::Purposes, Supplementary::Categories, Supplementary::Recipients, Supplementary::Retention, Supplementary::Source]
    {
        assert!(a.supplementary.contains(&info), "{info:?}");
    }
    assert!(a.supplementary.contains(&Supplementary::AutomatedDecisions));
}

#[test]
fn both_kinds_give_both_parts_and_an_unclear_kind_means_both() {
    assert_eq!(RequestKind::or_both(None), RequestKind::Both);
    assert_eq!(RequestKind::or_both(Some("a copy please")), RequestKind::Both);
    assert_eq!(RequestKind::or_both(Some("Portability")), RequestKind::Portability);
    let s = scope(&shop(), &Regime::builtin("uk-gdpr").unwrap(), RequestKind::default()).unwrap();
    let parts: Vec<Part> = s.parts.iter().map(|p| p.part).collect();
    assert_eq!(parts, [Part::Portability, Part::Access]);
}

#[test]
fn ccpa_right_to_know_covers_inferred_data_with_a_twelve_month_lookback() {
    let s = scope(&shop(), &Regime::builtin("ccpa").unwrap(), RequestKind::Both).unwrap();
    for part in [Part::Portability, Part::Access] {
        let p = s.part(part).unwrap();
        assert_eq!(p.decision("customers", "fraud_score"), Some(&Decision::Included));
        assert_eq!(p.decision("recommendations", "reason"), Some(&Decision::Included));
        assert!(p.left_out.is_empty());
        let orders = p.tables.iter().find(|t| t.table == "orders").unwrap();
        assert_eq!(orders.lookback_months, Some(12));
        // no recorded_at column: no look-back can be applied
        let customers = p.tables.iter().find(|t| t.table == "customers").unwrap();
        assert_eq!(customers.lookback_months, None);
        assert!(matches!(p.decision("support_tickets", "cc_recipients"), Some(Decision::Withheld { .. })));
    }
}

#[test]
fn a_column_without_origin_is_never_guessed_into_portability() {
    let mut m = shop();
    m.databases[0].tables[0].columns[1].origin = None; // customers.email
    let s = scope(&m, &Regime::builtin("gdpr").unwrap(), RequestKind::Both).unwrap();
    assert!(matches!(s.part(Part::Portability).unwrap().decision("customers", "email"), Some(Decision::LeftOut { .. })));
    assert_eq!(s.part(Part::Access).unwrap().decision("customers", "email"), Some(&Decision::Included));
}

const OWN_REGIME: &str = r#"
id = "acme-law"
name = "Acme Data Act"
authority = "the Acme Data Commissioner"
complaint = "Complain to {authority}."
deadline = { days = 30 }
deadline_source = "Acme Data Act s. 4"

[portability]
right = "right to move data"
article = "s. 9"
origins = ["provided"]
bases = ["consent", "contract", "legitimate_interests"]
origin_left_out = "{origin} data is outside s. 9"
basis_left_out = "{basis} is outside s. 9"
others_withheld = "others' data (s. 9(3))"
"#;

#[test]
fn a_user_provided_regime_file_works_like_a_built_in_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.toml");
    std::fs::write(&path, OWN_REGIME).unwrap();
    let acme = Regime::load(&path).unwrap();
    assert_eq!(acme.deadline, Rule { period: Period::Days(30), extension: None, extensions: 0 });
    assert_eq!(acme.complaint_statement(), "Complain to the Acme Data Commissioner.");
    let s = scope(&shop(), &acme, RequestKind::Portability).unwrap();
    let p = s.part(Part::Portability).unwrap();
    assert_eq!(p.decision("orders", "placed_at"), Some(&left_out("observed data is outside s. 9")));
    assert_eq!(p.decision("customers", "email"), Some(&Decision::Included));
    // the regime has no access right: asked for, an error; for both, the part it has
    assert_eq!(
        scope(&shop(), &acme, RequestKind::Access).unwrap_err(),
        RegimeError::NoSuchRight { regime: "acme-law".into(), part: "access" }
    );
    assert_eq!(scope(&shop(), &acme, RequestKind::Both).unwrap().parts.len(), 1);
}

#[test]
fn a_bad_regime_file_is_refused_with_the_reason() {
    let no_reason = OWN_REGIME.replace("origin_left_out = \"{origin} data is outside s. 9\"\n", "");
    let err = Regime::from_toml(&no_reason).unwrap_err().to_string();
    assert!(err.contains("origin_left_out"), "{err}");
    let both_units = OWN_REGIME.replace("{ days = 30 }", "{ days = 30, months = 1 }");
    assert!(Regime::from_toml(&both_units).unwrap_err().to_string().contains("exactly one of `months` or `days`"));
    let mixed = OWN_REGIME.replace("{ days = 30 }", "{ days = 30, extension_months = 1 }");
    assert!(Regime::from_toml(&mixed).unwrap_err().to_string().contains("same unit"));
    let unknown = OWN_REGIME.replace("id = \"acme-law\"", "id = \"acme-law\"\nfee = 10");
    assert!(Regime::from_toml(&unknown).unwrap_err().to_string().contains("unknown field `fee`"));
    assert!(matches!(Regime::from_toml(&"#".repeat(300_000)), Err(RegimeError::TooLarge { .. })));
    assert!(matches!(Regime::from_toml("id = "), Err(RegimeError::Invalid(_))));
}

#[test]
fn an_access_answer_carries_the_supplementary_information_from_the_map() {
    use ferry_requests::supplementary::{information, source};
    let m = shop();
    let gdpr = Regime::builtin("gdpr").unwrap();
    let s = scope(&m, &gdpr, RequestKind::Access).unwrap();
    let info = information(&m, &gdpr, s.part(Part::Access).unwrap());
    let names: Vec<&str> = info.categories.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["commercial information", "customer service", "identifiers", "inferences", "preferences"]);
    let inferences = &info.categories[3];
    assert_eq!(inferences.columns, ["shop.customers.fraud_score", "shop.recommendations.product", "shop.recommendations.reason"]);
    assert_eq!(inferences.sources, [source(map::Origin::Inferred)]);
    assert_eq!(inferences.recipients, ["Recommendation engine provider"]);
    assert!(info.purposes.contains(&"Preventing fraud.".to_string()));
    assert!(info.recipients.contains(&"Tax authority".to_string()));
    assert!(info.retention.contains(&"10 years (tax law).".to_string()));
    assert_eq!(info.sources.len(), 3);
    assert_eq!(info.automated_decisions.len(), 1);
    assert_eq!(info.automated_decisions[0].column, "shop.customers.fraud_score");
    assert!(info.rights.as_deref().unwrap().contains("Article 17 GDPR"));
    assert_eq!(info.complaint, Some(gdpr.complaint_statement()));
    // withheld columns are data held about the person too: listed, not delivered
    let service = &info.categories[1];
    assert!(service.columns.contains(&"shop.support_tickets.cc_recipients".to_string()));

    // portability lists no supplementary information; CCPA lists no Article 22 decisions
    let p = scope(&m, &gdpr, RequestKind::Portability).unwrap();
    let none = information(&m, &gdpr, p.part(Part::Portability).unwrap());
    assert!(none.categories.is_empty() && none.purposes.is_empty() && none.complaint.is_none() && none.rights.is_none());
    let ccpa = Regime::builtin("ccpa").unwrap();
    let c = scope(&m, &ccpa, RequestKind::Access).unwrap();
    let info = information(&m, &ccpa, c.part(Part::Access).unwrap());
    assert!(info.automated_decisions.is_empty() && info.rights.is_none());
    assert_eq!(info.categories.len(), 5);
    assert!(info.complaint.unwrap().contains("California Privacy Protection Agency"));
}

#[test]
fn a_regime_listing_rights_must_state_them() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/regimes/gdpr.toml")).unwrap();
    let without: String = text.lines().filter(|l| !l.starts_with("rights = ")).map(|l| format!("{l}\n")).collect();
    let err = Regime::from_toml(&without).unwrap_err().to_string();
    assert!(err.contains("states no `rights`"), "{err}");
}
