//! What is checked before a job exists. Every problem found here is the request's
//! ([`AppError::Usage`] or [`AppError::MissingPassword`]): no job is created for it.

use crate::error::{AppError, Side, usage};
use crate::request::{RunOptions, TransferRequest};
use ferry_connectors::Spec;
use ferry_core::{AuthKind, Endpoint, Vertical};
use ferry_jobs::JobSpec;

/// A job id that no job has: a new job's destination is checked as nobody's yet.
pub(crate) const NEW_JOB: &str = "(new job)";

/// Checks a request with the options it is to run with, and returns the job to create:
/// URIs of local paths made absolute (so that a resume works from any directory), and the
/// verticals that the source exports and the destination imports.
pub fn plan(req: &TransferRequest, run: &RunOptions) -> Result<JobSpec, AppError> {
    let (source, src_spec) = endpoint(&req.source)?;
    let (destination, dst_spec) = endpoint(&req.destination)?;
    let (src, dst) = (src_spec.capabilities, dst_spec.capabilities);
    if let Some(p) = src_spec.local_path(&source) {
        match std::fs::symlink_metadata(&p) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(usage(format!("the source {} does not exist; check the path", p.display())));
            }
            Err(e) => return Err(usage(format!("the source {} cannot be read: {e}", p.display()))),
        }
        // a folder read while written into (or written into while read) grows without end
        if let Some(d) = dst_spec.local_path(&destination)
            && p.is_dir()
        {
            ferry_connectors::dir::check_overlap(&p, &d).map_err(|why| usage(format!("{why}; choose a destination outside it")))?;
        }
    }
    let wanted = if req.only.is_empty() { ferry_verticals::VERTICALS.to_vec() } else { req.only.clone() };
    let verticals: Vec<Vertical> = wanted.iter().copied().filter(|v| src.exports.contains(v) && dst.imports.contains(v)).collect();
    if verticals.is_empty() {
        return Err(usage(format!(
            "{} cannot export, or {} cannot import, any of: {}; choose others with --only",
            src.name,
            dst.name,
            wanted.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    if req.options.incremental && dst.written_whole {
        return Err(usage(format!(
            "--incremental does not apply to a {} destination: it is always written whole \
                (use it with folder and server destinations)",
            dst.name
        )));
    }
    concurrency(dst_spec, run.concurrency)?;
    for (side, e, spec) in [(Side::Source, &source, src_spec), (Side::Destination, &destination, dst_spec)] {
        if needs_credential(spec) && run.credential(side).is_none() {
            return Err(AppError::MissingPassword { side, uri: e.to_string() });
        }
        accepts(spec, side, run.credential(side))?;
    }
    if !req.options.dry_run
        && let Some(check) = dst_spec.preflight
    {
        check(&destination, NEW_JOB).map_err(|e| usage(e.to_string()))?;
    }
    Ok(JobSpec {
        source: source.to_string(),
        destination: destination.to_string(),
        verticals,
        options: req.options.clone(),
        owner: req.owner.clone(),
    })
}

/// Parses a URI, finds its connector, and makes a local path absolute.
fn endpoint(uri: &str) -> Result<(Endpoint, &'static Spec), AppError> {
    let e = Endpoint::parse(uri).map_err(usage)?;
    let spec = ferry_connectors::find(&e.scheme).map_err(usage)?;
    let Some(path) = spec.local_path(&e) else { return Ok((e, spec)) };
    let query = e.path().split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
    let abs = std::path::absolute(&path).map_err(|err| usage(format!("bad path in {uri}: {err}")))?;
    let e = Endpoint::parse(&format!("{}:{}{query}", e.scheme, abs.display())).map_err(usage)?;
    Ok((e, spec))
}

/// Whether a connector cannot work without a credential.
pub(crate) fn needs_credential(spec: &Spec) -> bool {
    spec.capabilities.auth != AuthKind::None && !spec.capabilities.credentials.is_empty()
}

/// Refuses a credential of a kind the connector does not take (a token for IMAP).
pub(crate) fn accepts(spec: &Spec, side: Side, given: Option<&ferry_connectors::Credential>) -> Result<(), AppError> {
    let Some(kind) = given.and_then(|c| c.kind()) else { return Ok(()) };
    let takes = spec.capabilities.credentials;
    if !takes.is_empty() && !takes.contains(&kind) {
        return Err(usage(format!(
            "the {side} ({}) takes {}, not a {} credential",
            spec.capabilities.name,
            takes.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(" or "),
            kind.as_str()
        )));
    }
    Ok(())
}

/// Items in flight: what was asked, at most what the destination accepts.
pub(crate) fn concurrency(dst: &Spec, asked: Option<usize>) -> Result<usize, AppError> {
    let ceiling = dst.capabilities.max_concurrency.max(1);
    match asked {
        None => Ok(ceiling),
        Some(0) => Err(usage("--concurrency must be at least 1")),
        Some(n) if n > ceiling => Err(usage(format!(
            "--concurrency {n} is more than the {ceiling} items at once that the {} connector accepts",
            dst.capabilities.name
        ))),
        Some(n) => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(from: &str, to: &str) -> TransferRequest {
        TransferRequest { source: from.into(), destination: to.into(), ..Default::default() }
    }

    #[test]
    fn nesting_is_refused_both_ways_and_siblings_pass() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        let s = format!("dir:{}", src.display());
        let run = RunOptions::default();
        assert!(plan(&req(&s, &format!("package:{}/out.zip", src.display())), &run).is_err());
        assert!(plan(&req(&s, &format!("dir:{}/sub/new", src.display())), &run).is_err());
        assert!(plan(&req(&format!("dir:{}/sub", src.display()), &format!("dir:{}", src.display())), &run).is_err());
        assert!(plan(&req(&s, &s), &run).is_err());
        assert!(plan(&req(&s, &format!("dir:{}/other", t.path().display())), &run).is_ok());
        // through a link to the source
        std::os::unix::fs::symlink(&src, t.path().join("alias")).unwrap();
        assert!(plan(&req(&s, &format!("dir:{}/alias/x", t.path().display())), &run).is_err());
        assert!(plan(&req(&format!("dir:{}/missing", t.path().display()), "dir:/tmp/x"), &run).is_err());
    }

    #[test]
    fn concurrency_is_capped_by_the_destination_not_raised() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("src")).unwrap();
        let r = req(&format!("dir:{}/src", t.path().display()), &format!("package:{}/out.zip", t.path().display()));
        let with = |n| RunOptions { concurrency: n, ..Default::default() };
        let e = plan(&r, &with(Some(500))).unwrap_err();
        assert!(e.is_usage() && e.to_string().contains("more than the 8"), "{e}");
        assert!(plan(&r, &with(Some(0))).unwrap_err().is_usage());
        assert!(plan(&r, &with(Some(8))).is_ok());
        assert!(plan(&r, &with(None)).is_ok());
    }

    #[test]
    fn a_server_without_a_password_is_refused_before_a_job_exists() {
        let t = tempfile::tempdir().unwrap();
        let r = req("imaps://me@127.0.0.1", &format!("dir:{}/out", t.path().display()));
        let e = plan(&r, &RunOptions::default()).unwrap_err();
        assert!(matches!(e, AppError::MissingPassword { side: Side::Source, .. }), "{e}");
        let run = RunOptions { source_credential: Some(ferry_connectors::Credential::password("pw")), ..Default::default() };
        assert!(plan(&r, &run).is_ok());
        // IMAP logs in with a password, never a token
        let token = ferry_core::TokenSet::from_json(
            r#"{"access_token":"a","token_endpoint":"https://as.example/token","client_id":"c"}"#,
            chrono::Utc::now(),
        )
        .unwrap();
        let run = RunOptions { source_credential: Some(ferry_connectors::Credential::Bearer(token)), ..Default::default() };
        assert!(plan(&r, &run).unwrap_err().to_string().contains("takes password, not a bearer"));
    }

    #[test]
    fn paths_are_made_absolute_and_queries_kept() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("src")).unwrap();
        let here = std::env::current_dir().unwrap();
        let rel = pathdiff(&t.path().join("src"), &here);
        let spec = plan(&req(&format!("dir:{rel}"), &format!("dir:{}/out?vcard=3.0", t.path().display())), &RunOptions::default());
        let spec = spec.unwrap();
        let path = std::path::Path::new(spec.source.strip_prefix("dir:").unwrap());
        assert!(path.is_absolute(), "{}", spec.source);
        assert_eq!(path.canonicalize().unwrap(), t.path().join("src").canonicalize().unwrap());
        assert!(spec.destination.ends_with("/out?vcard=3.0"), "{}", spec.destination);
    }

    /// `target` relative to `base`, through `..` as needed.
    fn pathdiff(target: &std::path::Path, base: &std::path::Path) -> String {
        let up = base.components().count() - 1;
        format!("{}{}", "../".repeat(up), target.strip_prefix("/").unwrap().display())
    }
}
