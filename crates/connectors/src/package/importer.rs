use super::config::PackageConfig;
use crate::Settings;
use async_trait::async_trait;
use ferry_core::{ConnectorError, Importer, Item, PutOutcome};
use ferry_package::{Added, PackageError, PackageWriter};
use tokio::sync::OnceCell;

pub struct PackageImporter {
    cfg: PackageConfig,
    settings: Settings,
    source: String,
    writer: OnceCell<PackageWriter>,
}

impl PackageImporter {
    pub fn new(cfg: PackageConfig, settings: Settings, source: String) -> Self {
        PackageImporter { cfg, settings, source, writer: OnceCell::new() }
    }

    async fn writer(&self) -> Result<&PackageWriter, ConnectorError> {
        self.writer
            .get_or_try_init(|| PackageWriter::open(&self.cfg.path, &self.source, &self.settings.job_id, self.settings.encryption.clone()))
            .await
            .map_err(fatal)
    }
}

fn fatal(e: PackageError) -> ConnectorError {
    match e {
        PackageError::Io { context, source } => ConnectorError::from_io(&format!("package: {context}"), source),
        other => ConnectorError::Fatal(format!("package: {other}")),
    }
}

fn outcome(item: &Item, added: Result<Added, PackageError>) -> Result<PutOutcome, ConnectorError> {
    let added = added.map_err(|e| match e {
        // the item's own content could not be read: that item fails, the job goes on
        PackageError::Io { context, source } if context.starts_with("reading") => ConnectorError::Item(format!("{context}: {source}")),
        // an item the package cannot hold fails alone
        PackageError::BadItem(why) => ConnectorError::Item(why),
        other => fatal(other),
    })?;
    Ok(PutOutcome {
        dest_id: format!("{}#{}", added.path_hint, item.id),
        created: added.created,
        warnings: added.warnings,
        sha256: added.sha256,
    })
}

#[async_trait]
impl Importer for PackageImporter {
    async fn put(&self, item: &Item) -> Result<PutOutcome, ConnectorError> {
        outcome(item, self.writer().await?.add(item).await)
    }

    /// A page is staged in one transaction.
    async fn put_page(&self, items: &[&Item]) -> Option<Vec<Result<PutOutcome, ConnectorError>>> {
        // a writer that cannot open: item by item, so that its error is retried if it may be
        let writer = self.writer().await.ok()?;
        let added = writer.add_page(items).await;
        Some(items.iter().zip(added).map(|(item, a)| outcome(item, a)).collect())
    }

    /// The staged records are synced to the disk (once for many pages).
    async fn sync(&self) -> Result<(), ConnectorError> {
        match self.writer.get() {
            Some(w) => w.sync().await.map_err(fatal),
            None => Ok(()),
        }
    }

    async fn finish(&self) -> Result<(), ConnectorError> {
        self.writer().await?.finish().await.map(|_| ()).map_err(fatal)
    }
}
