//! Logging with `tracing`: to stderr and to a daily-rotated file in the data directory.
//! `ANYON_LOG` takes an `EnvFilter` directive (`debug`, `anyon=trace,info`, ...).

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::util::paths::DataPaths;

/// The environment variable read for the log filter.
pub const LOG_ENV: &str = "ANYON_LOG";
/// How many daily log files are kept.
const KEPT_LOG_FILES: usize = 7;

/// Installs the global subscriber. Keep the returned guard alive until exit so the file is flushed.
/// `stderr_default` is the stderr level when `ANYON_LOG` is unset (the CLI keeps stderr quiet).
pub fn init(paths: &DataPaths, stderr_default: &str) -> Option<WorkerGuard> {
    let filter = |default: &str| EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new(default));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter(stderr_default));
    let file = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("anyon")
        .filename_suffix("log")
        .max_log_files(KEPT_LOG_FILES)
        .build(paths.logs());
    match file {
        Ok(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let file_layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter("info"));
            let _ = tracing_subscriber::registry().with(stderr).with(file_layer).try_init();
            Some(guard)
        }
        Err(error) => {
            let _ = tracing_subscriber::registry().with(stderr).try_init();
            tracing::warn!(%error, "logging to stderr only: cannot open the log file");
            None
        }
    }
}
