use super::config::PackageConfig;
use crate::Settings;
use crate::pager;
use async_trait::async_trait;
use ferry_core::{ConnectorError, Exporter, PageStream, Vertical};
use ferry_package::PackageReader;
use std::sync::Arc;
use tokio::sync::OnceCell;

pub struct PackageExporter {
    cfg: PackageConfig,
    settings: Settings,
    reader: OnceCell<Arc<PackageReader>>,
}

impl PackageExporter {
    pub fn new(cfg: PackageConfig, settings: Settings) -> Self {
        PackageExporter { cfg, settings, reader: OnceCell::new() }
    }

    /// Opens (and, for `.age`, decrypts) the package once for all verticals.
    async fn reader(&self) -> Result<Arc<PackageReader>, ConnectorError> {
        self.reader
            .get_or_try_init(|| async {
                let path = self.cfg.path.clone();
                let s = self.settings.clone();
                tokio::task::spawn_blocking(move || PackageReader::open(&path, s.decryption.as_ref(), &s.temp_dir, s.unpack_limits))
                    .await
                    .map_err(|e| ConnectorError::Fatal(e.to_string()))?
                    .map(Arc::new)
                    .map_err(|e| ConnectorError::Fatal(format!("package: {e}")))
            })
            .await
            .cloned()
    }
}

#[async_trait]
impl Exporter for PackageExporter {
    async fn pages(&self, vertical: Vertical, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        let reader = self.reader().await?;
        Ok(pager::spawn(cursor, move |emit| {
            let items = reader.items(vertical).map_err(|e| ConnectorError::Fatal(format!("package: {e}")))?;
            for item in items {
                if !emit.emit(item) {
                    break;
                }
            }
            Ok(())
        }))
    }
}
