use super::config::PackageConfig;
use crate::Settings;
use crate::pager;
use async_trait::async_trait;
use ferry_core::{ConnectorError, Exporter, PageStream, Stream, Vertical};
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
    /// Each vertical's records are a file of their own: a stream each.
    async fn plan(&self, verticals: &[Vertical]) -> Result<Vec<Stream>, ConnectorError> {
        Ok(Stream::per_vertical(verticals))
    }

    async fn pages(&self, stream: &Stream, cursor: Option<String>) -> Result<Box<dyn PageStream>, ConnectorError> {
        let &[vertical] = stream.verticals.as_slice() else {
            return Err(ConnectorError::Fatal(format!("package: no stream `{}`", stream.name)));
        };
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
