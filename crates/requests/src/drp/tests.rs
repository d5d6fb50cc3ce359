use super::*;
use crate::deadline::Period;
use crate::lifecycle::Identity;
use crate::map::IdentityKind;
use crate::store::{DrpLink, SqliteRequests, StoreError};
use chrono::TimeZone;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::json;

const BUSINESS: &str = "FERRY_SHOP";
const AGENT: &str = "CR_AGENT";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn agent_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn pip() -> Pip {
    let key = agent_key(7);
    let agents =
        Agents::new(&[AgentEntry { id: AGENT.into(), name: None, verify_key: STANDARD.encode(key.verifying_key().as_bytes()) }]).unwrap();
    Pip::new(BUSINESS, "https://shop.example/drp/", agents, None).unwrap()
}

/// libsodium combined mode: signature then message, base64.
fn seal(key: &SigningKey, message: &[u8]) -> Vec<u8> {
    let mut bytes = key.sign(message).to_bytes().to_vec();
    bytes.extend_from_slice(message);
    STANDARD.encode(bytes).into_bytes()
}

fn claims() -> Value {
    json!({
        "agent-id": AGENT,
        "business-id": BUSINESS,
        "issued-at": "2026-03-01T11:58:00Z",
        "expires-at": "2026-03-01T12:08:00Z",
        "agent-request-id": "ar-1",
        "drp.version": "1.0",
        "exercise": "access",
        "regime": "ccpa",
        "relationships": ["customer"],
        "status_callback": "https://agent.example/status",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "email_verified": true,
        "phone_number": "+15555550100"
    })
}

fn with(changes: &[(&str, Value)]) -> Value {
    let mut v = claims();
    for (k, val) in changes {
        if val.is_null() {
            v.as_object_mut().unwrap().remove(*k);
        } else {
            v[*k] = val.clone();
        }
    }
    v
}

fn body(v: &Value) -> Vec<u8> {
    seal(&agent_key(7), v.to_string().as_bytes())
}

#[test]
fn a_signed_access_request_is_accepted() {
    let r = pip().exercise(AGENT, &body(&claims()), now()).unwrap();
    assert_eq!(r.agent_id, AGENT);
    assert_eq!(r.agent_request_id.as_deref(), Some("ar-1"));
    assert_eq!(r.actions, [Action::Access]);
    assert_eq!(r.kind, RequestKind::Access);
    assert_eq!(r.regime, "ccpa");
    assert_eq!(r.relationships, ["customer"]);
    assert_eq!(r.status_callback.as_deref(), Some("https://agent.example/status"));
    assert_eq!(r.identity.email.as_deref(), Some("ada@example.com"));
    assert!(r.identity.email_verified);
    assert!(!r.identity.phone_number_verified);
    assert_eq!(r.identity.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(r.expires_at, Utc.with_ymd_and_hms(2026, 3, 1, 12, 8, 0).unwrap());
    // a list, as older agents send it, and 0.9.4 (the same protocol)
    let old = with(&[("exercise", json!(["access"])), ("drp.version", json!("0.9.4"))]);
    assert_eq!(pip().exercise(AGENT, &body(&old), now()).unwrap().actions, [Action::Access]);
}

#[test]
fn a_changed_byte_is_refused() {
    let sealed = body(&claims());
    let mut bytes = STANDARD.decode(&sealed).unwrap();
    for at in [3, 70, bytes.len() - 2] {
        bytes[at] ^= 1;
        let tampered = STANDARD.encode(&bytes).into_bytes();
        assert_eq!(pip().exercise(AGENT, &tampered, now()), Err(DrpError::BadSignature(AGENT.into())), "byte {at}");
        bytes[at] ^= 1;
    }
    // signed by a key not the agent's
    let forged = seal(&agent_key(8), claims().to_string().as_bytes());
    assert_eq!(pip().exercise(AGENT, &forged, now()), Err(DrpError::BadSignature(AGENT.into())));
}

#[test]
fn each_failed_check_has_its_own_error() {
    let p = pip();
    let e = |v: &Value| p.exercise(AGENT, &body(v), now()).unwrap_err();
    assert_eq!(p.exercise("NOBODY", &body(&claims()), now()), Err(DrpError::UnknownAgent("NOBODY".into())));
    assert_eq!(e(&with(&[("agent-id", json!("OTHER"))])), DrpError::AgentMismatch { signer: AGENT.into(), claimed: "OTHER".into() });
    assert_eq!(e(&with(&[("business-id", json!("OTHER_SHOP"))])), DrpError::WrongBusiness("OTHER_SHOP".into()));
    let expired = with(&[("issued-at", json!("2026-03-01T11:00:00Z")), ("expires-at", json!("2026-03-01T11:10:00Z"))]);
    assert_eq!(e(&expired), DrpError::Expired(Utc.with_ymd_and_hms(2026, 3, 1, 11, 10, 0).unwrap()));
    let future = with(&[("issued-at", json!("2026-03-01T12:05:00Z")), ("expires-at", json!("2026-03-01T12:15:00Z"))]);
    assert!(matches!(e(&future), DrpError::IssuedInFuture(_)));
    // within the skew is fine
    let skewed = with(&[("issued-at", json!("2026-03-01T12:01:00+00:00"))]);
    assert!(p.exercise(AGENT, &body(&skewed), now()).is_ok());
    let backwards = with(&[("expires-at", json!("2026-03-01T11:00:00Z"))]);
    assert!(matches!(e(&backwards), DrpError::Malformed(m) if m.contains("not after")));
    assert!(matches!(e(&with(&[("issued-at", json!("yesterday"))])), DrpError::Malformed(m) if m.contains("issued-at")));
    assert_eq!(e(&with(&[("drp.version", json!("0.5"))])), DrpError::UnsupportedVersion("0.5".into()));
    for field in ["agent-id", "business-id", "issued-at", "expires-at", "drp.version", "exercise"] {
        assert_eq!(e(&with(&[(field, Value::Null)])), DrpError::MissingField(field), "{field}");
    }
    assert_eq!(e(&with(&[("exercise", json!([]))])), DrpError::MissingField("exercise"));
    assert!(matches!(e(&with(&[("email_verified", json!("yes"))])), DrpError::Malformed(_)));
    assert!(matches!(e(&with(&[("status_callback", json!("file:///etc/passwd"))])), DrpError::Malformed(_)));
    assert_eq!(e(&with(&[("email", Value::Null), ("phone_number", Value::Null)])), DrpError::NoIdentity);
}

#[test]
fn bad_bodies_are_refused_before_anything_else() {
    let p = pip();
    let huge = vec![b'A'; MAX_BODY + 4];
    assert_eq!(p.exercise(AGENT, &huge, now()), Err(DrpError::TooLarge(MAX_BODY + 4)));
    assert_eq!(p.exercise(AGENT, b"not base64 at all!", now()), Err(DrpError::NotBase64));
    assert_eq!(p.exercise(AGENT, STANDARD.encode([0u8; 40]).as_bytes(), now()), Err(DrpError::Truncated));
    assert_eq!(p.exercise(AGENT, b"", now()), Err(DrpError::Truncated));
    let not_json = seal(&agent_key(7), b"exercise=access");
    assert_eq!(p.exercise(AGENT, &not_json, now()), Err(DrpError::NotJson));
    let array = seal(&agent_key(7), b"[1,2]");
    assert_eq!(p.exercise(AGENT, &array, now()), Err(DrpError::NotJson));
    // trailing newline, as a text/plain body may carry
    let mut newline = body(&claims());
    newline.push(b'\n');
    assert!(p.exercise(AGENT, &newline, now()).is_ok());
}

#[test]
fn actions_ferry_does_not_offer_are_refused_as_the_spec_says() {
    let p = pip();
    for name in ["deletion", "sale:opt_out", "sale:opt-out", "sale:opt_in", "access:categories", "access:specific"] {
        let err = p.exercise(AGENT, &body(&with(&[("exercise", json!(name))])), now()).unwrap_err();
        assert!(matches!(&err, DrpError::UnsupportedAction(_)), "{name}: {err:?}");
        let b = err.body();
        assert_eq!(b.code, "400");
        assert!(b.fatal && b.message.starts_with("Unsupported rights actions submitted"), "{b:?}");
    }
    let err = p.exercise(AGENT, &body(&with(&[("exercise", json!(["access", "deletion"]))])), now()).unwrap_err();
    assert_eq!(err, DrpError::UnsupportedAction("deletion".into()));
    let err = p.exercise(AGENT, &body(&with(&[("exercise", json!("teleport"))])), now()).unwrap_err();
    assert_eq!(err, DrpError::UnknownAction("teleport".into()));
}

#[test]
fn regimes_map_to_ferrys() {
    let mut p = pip();
    assert_eq!(p.regime(Some("CCPA")), Ok("ccpa".into()));
    assert_eq!(p.regime(None), Err(DrpError::UnsupportedRegime("voluntary".into())));
    assert_eq!(p.regime(Some("gdpr")), Err(DrpError::UnsupportedRegime("gdpr".into())));
    let none = with(&[("regime", Value::Null)]);
    assert_eq!(p.exercise(AGENT, &body(&none), now()).unwrap_err(), DrpError::UnsupportedRegime("voluntary".into()));
    p.voluntary_regime = Some("gdpr".into());
    assert_eq!(p.exercise(AGENT, &body(&none), now()).unwrap().regime, "gdpr");
    assert_eq!(p.regime(Some("voluntary")), Ok("gdpr".into()));
}

#[test]
fn errors_carry_the_http_status_of_their_kind() {
    assert_eq!(DrpError::BadSignature("a".into()).http_status(), 403);
    assert_eq!(DrpError::UnknownAgent("a".into()).http_status(), 403);
    assert_eq!(DrpError::WrongBusiness("b".into()).http_status(), 403);
    assert_eq!(DrpError::TooLarge(1).http_status(), 413);
    assert_eq!(DrpError::NotJson.http_status(), 400);
    let expired = DrpError::Expired(now()).body();
    assert!(expired.fatal && expired.code == "400");
    let json = serde_json::to_value(DrpError::NotJson.body()).unwrap();
    assert_eq!(json, json!({"code": "400", "message": "the signed message is not a JSON object"}));
}

#[test]
fn agent_setup_gives_a_token_to_a_known_agent_only() {
    let p = pip();
    let setup = json!({
        "agent-id": AGENT, "business-id": BUSINESS, "drp.version": "1.0",
        "issued-at": "2026-03-01T11:59:00Z", "expires-at": "2026-03-01T12:09:00Z"
    });
    let a = p.agent_setup(AGENT, &body(&setup), now()).unwrap();
    let b = p.agent_setup(AGENT, &body(&setup), now()).unwrap();
    assert_eq!(a.agent_id, AGENT);
    assert_eq!(URL_SAFE_NO_PAD.decode(&a.token).unwrap().len(), 32);
    assert_ne!(a.token, b.token);
    assert_eq!(token_digest(&a.token).len(), 64);
    assert_ne!(token_digest(&a.token), token_digest(&b.token));
    let out = serde_json::to_value(&a).unwrap();
    assert_eq!(out["agent-id"], AGENT);
    // the URL's agent must be the one in the message, and known
    assert_eq!(p.agent_setup("NOBODY", &body(&setup), now()), Err(DrpError::UnknownAgent("NOBODY".into())));
    let mut other = setup.clone();
    other["agent-id"] = json!("OTHER");
    assert!(matches!(p.agent_setup(AGENT, &body(&other), now()), Err(DrpError::AgentMismatch { .. })));
    let later = now() + chrono::Duration::minutes(30);
    assert!(matches!(p.agent_setup(AGENT, &body(&setup), later), Err(DrpError::Expired(_))));
}

#[test]
fn revoke_reads_the_signed_reason() {
    let p = pip();
    let r = p.revoke(AGENT, &body(&json!({"reason": "changed my mind"}))).unwrap();
    assert_eq!(r.reason.as_deref(), Some("changed my mind"));
    assert_eq!(p.revoke(AGENT, &body(&json!({}))).unwrap().reason, None);
    assert_eq!(p.revoke(AGENT, &body(&json!({"reason": "  "}))).unwrap().reason, None);
    assert!(matches!(p.revoke(AGENT, &body(&json!({"reason": 5}))), Err(DrpError::Malformed(_))));
    let forged = seal(&agent_key(9), br#"{"reason":"x"}"#);
    assert_eq!(p.revoke(AGENT, &forged), Err(DrpError::BadSignature(AGENT.into())));
    assert_eq!(p.revoke("NOBODY", &forged), Err(DrpError::UnknownAgent("NOBODY".into())));
}

#[test]
fn discovery_offers_access_only() {
    let p = pip();
    let d = serde_json::to_value(p.discovery()).unwrap();
    assert_eq!(d, json!({"version": "1.0", "api_base": "https://shop.example/drp", "actions": ["access"], "user_relationships": []}));
    let e = serde_json::to_value(p.directory_entry("Ferry Shop")).unwrap();
    assert_eq!(e["id"], BUSINESS);
    assert_eq!(e["supported_actions"], json!(["access"]));
    assert_eq!(e["supported_verifications"], json!(["email"]));
    for bad in ["ftp://shop.example", "https://", "https://shop.example/?x=1", "shop.example", "https://a b"] {
        assert!(matches!(Pip::new(BUSINESS, bad, Agents::default(), None), Err(DrpError::Config(_))), "{bad}");
    }
    assert!(Pip::new(BUSINESS, "http://localhost:8080", Agents::default(), None).is_ok());
    assert!(Pip::new("", "https://shop.example", Agents::default(), None).is_err());
}

#[test]
fn agents_load_from_toml_with_clear_errors() {
    let key = STANDARD.encode(agent_key(1).verifying_key().as_bytes());
    let agents = Agents::from_toml(&format!("[[agent]]\nid = \"A\"\nname = \"Agent A\"\nverify_key = \"{key}\"\n")).unwrap();
    assert!(agents.key("A").is_some() && agents.key("B").is_none());
    let err = |t: &str| match Agents::from_toml(t) {
        Err(DrpError::Config(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(err("[[agent]]\nid = \"A\"\nverify_key = \"@@\"\n").contains("agent `A`: the public key is not base64"));
    assert!(err(&format!("[[agent]]\nid = \"A\"\nverify_key = \"{}\"\n", STANDARD.encode([1u8; 16]))).contains("16 bytes"));
    assert!(
        err(&format!("[[agent]]\nid = \"A\"\nverify_key = \"{key}\"\n[[agent]]\nid = \"A\"\nverify_key = \"{key}\"\n")).contains("twice")
    );
    assert!(err("[[agent]]\nid = \"A\"\n").contains("verify_key"));
    assert!(err("[[agents]]\n").contains("agents"));
}

#[test]
fn the_state_table_covers_every_state() {
    for state in State::ALL {
        let drp = drp_status(state);
        // final states map to final DRP statuses, and the other way round
        assert_eq!(state.is_final(), !matches!(drp, DrpStatus::Open | DrpStatus::InProgress), "{state}");
    }
    assert_eq!(drp_status(State::Received), DrpStatus::Open);
    assert_eq!(drp_status(State::Extended), DrpStatus::InProgress);
    assert_eq!(drp_status(State::Delivered), DrpStatus::Fulfilled);
    assert_eq!(drp_status(State::Refused), DrpStatus::Denied);
    assert_eq!(drp_status(State::Withdrawn), DrpStatus::Revoked);
    assert_eq!(STATES.len(), State::ALL.len());
}

#[test]
fn the_refusal_table_maps_each_reason() {
    use RefusalReason::*;
    let expected = [
        (NotInScope, "claim_not_covered"),
        (IdentityNotVerified, "insuf_verification"),
        (ManifestlyUnfounded, "other"),
        (Excessive, "too_many_requests"),
        (RightsOfOthers, "other"),
        (NoDataHeld, "no_match"),
        (LegalExemption, "claim_not_covered"),
    ];
    for (reason, name) in expected {
        assert_eq!(serde_json::to_value(drp_reason(reason)).unwrap(), json!(name), "{reason:?}");
    }
}

fn request(regime: &Regime) -> Request {
    let identity = Identity { kind: IdentityKind::Email, value: "ada@example.com".into(), verified: None };
    Request::new("r-1", regime, RequestKind::Access, NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), identity)
}

#[test]
fn the_status_follows_the_request() {
    let ccpa = Regime::builtin("ccpa").unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let links = StatusLinks {
        agent_request_id: Some("ar-1".into()),
        user_verification_url: Some("https://shop.example/verify/d-1".into()),
        results_url: Some("https://shop.example/results/d-1".into()),
    };
    let mut r = request(&ccpa);
    let s = status("d-1", &r, &ccpa, &links);
    assert_eq!((s.status, s.reason), (DrpStatus::Open, None));
    assert_eq!(s.request_id, "d-1");
    assert_eq!(s.received_at.as_deref(), Some("2026-03-01T00:00:00Z"));
    // CCPA: 45 days
    assert_eq!(s.expected_by.as_deref(), Some("2026-04-15T00:00:00Z"));

    r.verify_identity().unwrap();
    let s = status("d-1", &r, &ccpa, &links);
    assert_eq!((s.status, s.reason), (DrpStatus::InProgress, Some(DrpReason::NeedUserVerification)));
    assert_eq!(s.user_verification_url, links.user_verification_url);
    let s = status("d-1", &r, &ccpa, &StatusLinks::default());
    assert_eq!((s.status, s.reason, s.user_verification_url), (DrpStatus::InProgress, None, None));

    r.identity_confirmed("code", day).unwrap();
    r.extend(&ccpa, Period::Days(45), "many systems to search", day).unwrap();
    let s = status("d-1", &r, &ccpa, &links);
    assert_eq!(s.status, DrpStatus::InProgress);
    assert!(s.processing_details.as_deref().unwrap().contains("many systems to search"));
    assert_eq!(s.expected_by.as_deref(), Some("2026-05-31T00:00:00Z"));

    let mut delivered = r.clone();
    delivered.ready_for_review().unwrap();
    delivered.deliver(day).unwrap();
    let s = status("d-1", &delivered, &ccpa, &links);
    assert_eq!((s.status, s.results_url.as_deref(), s.expected_by), (DrpStatus::Fulfilled, Some("https://shop.example/results/d-1"), None));

    let mut refused = r.clone();
    refused.refuse(&ccpa, RefusalReason::NoDataHeld, "no account", day).unwrap();
    let s = status("d-1", &refused, &ccpa, &links);
    assert_eq!((s.status, s.reason), (DrpStatus::Denied, Some(DrpReason::NoMatch)));
    let details = s.processing_details.unwrap();
    assert!(details.contains("no account") && details.contains(&ccpa.complaint_statement()), "{details}");

    r.withdraw(day).unwrap();
    let s = serde_json::to_value(status("d-1", &r, &ccpa, &links)).unwrap();
    assert_eq!(s["status"], "revoked");
    assert_eq!(s["agent_request_id"], "ar-1");
    assert!(s.get("reason").is_none());
}

#[tokio::test]
async fn drp_links_are_kept_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteRequests::open(&dir.path().join("r.db")).await.unwrap();
    let ccpa = Regime::builtin("ccpa").unwrap();
    store.create(&request(&ccpa), "drp", now()).await.unwrap();
    let link = DrpLink {
        drp_id: "d-1".into(),
        agent_id: AGENT.into(),
        request_id: "r-1".into(),
        agent_request_id: Some("ar-1".into()),
        status_callback: None,
        created_at: now(),
    };
    assert_eq!(store.drp("d-1").await.unwrap(), None);
    store.put_drp(&link).await.unwrap();
    assert_eq!(store.drp("d-1").await.unwrap(), Some(link.clone()));
    assert!(matches!(store.put_drp(&link).await, Err(StoreError::Exists(_))));
    // one DRP id per ferry request
    let again = DrpLink { drp_id: "d-2".into(), ..link.clone() };
    assert!(matches!(store.put_drp(&again).await, Err(StoreError::Exists(_))));
    // and only a request the store has
    let stray = DrpLink { drp_id: "d-3".into(), request_id: "r-404".into(), ..link };
    assert!(matches!(store.put_drp(&stray).await, Err(StoreError::Db(_))));
}
