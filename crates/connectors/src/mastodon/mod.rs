//! `mastodon://INSTANCE`: a Mastodon account through the instance's REST API and an OAuth
//! 2.0 token of an app registered at that instance. Export: the account's posts (as
//! ActivityStreams 2.0 activities, with their media), the accounts it follows and that
//! follow it, blocks, mutes, blocked domains, lists, likes and bookmarks. Import: follows,
//! blocks, mutes, blocked domains, lists, likes and bookmarks through the API's account,
//! list and relationship endpoints; posts are reported as not importable (Mastodon has
//! no way to make a post with its old date: its issue #12423). See
//! docs/connectors/mastodon.md.

mod api;
mod config;
mod exporter;
mod importer;

pub use config::MastodonConfig;

use crate::Spec;
use ferry_core::{AuthKind, Capabilities, CredentialKind};
use ferry_verticals::social::SOCIAL;

pub static CAPABILITIES: Capabilities = Capabilities {
    name: "mastodon",
    schemes: &["mastodon"],
    address: "mastodon://INSTANCE (an account at a Mastodon server; ?api=URL for a stand-in server)",
    description: "A Mastodon account: posts, follows, followers, blocks, mutes, lists, likes, bookmarks",
    exports: &[SOCIAL],
    imports: &[SOCIAL],
    auth: AuthKind::OAuth2,
    credentials: &[CredentialKind::Bearer],
    // Mastodon lists relations without a change feed: each run lists them in full and the
    // ledger skips what moved before
    incremental: false,
    written_whole: false,
    local: false,
    // one account's requests share one rate limit (300 in 5 minutes)
    max_concurrency: 2,
};

pub const SPEC: Spec = Spec {
    capabilities: &CAPABILITIES,
    exporter: |e, s| Ok(Box::new(exporter::MastodonExporter::new(MastodonConfig::from_endpoint(e, s)?, s)?)),
    preflight: None,
    importer: |e, s, _| Ok(Box::new(importer::MastodonImporter::new(MastodonConfig::from_endpoint(e, s)?, s)?)),
};
