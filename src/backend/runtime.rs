//! Finding and loading the ONNX Runtime shared library.
//!
//! Search order: `ORT_DYLIB_PATH` (when set, only that); the copy provisioned by
//! the build script; next to the executable; the per-user cache the build
//! script fills; the system's library search path. A failure lists every place
//! tried and how to fix it, instead of `ort`'s panic on first use.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;

use crate::error::{Error, Result};

/// The ONNX Runtime release the library is built and tested against.
pub const ORT_VERSION: &str = "1.31.1";

static ENVIRONMENT: OnceLock<std::result::Result<Environment, (String, String)>> = OnceLock::new();

/// The process-wide ONNX Runtime environment, loading the library on first use.
pub(crate) fn environment() -> Result<&'static Environment> {
    let loaded = ENVIRONMENT.get_or_init(load);
    loaded.as_ref().map_err(|(reason, looked_for)| Error::Runtime {
        reason: reason.clone(),
        looked_for: looked_for.clone(),
        fix: format!(
            "set ORT_DYLIB_PATH to an ONNX Runtime {ORT_VERSION} library, e.g. `pip install onnxruntime=={ORT_VERSION}` \
             then ORT_DYLIB_PATH=<site-packages>/onnxruntime/capi/libonnxruntime.so.{ORT_VERSION} \
             (for GPUs, the same file from onnxruntime-gpu); or rebuild with access to PyPI so the build script fetches it"
        ),
    })
}

fn load() -> std::result::Result<Environment, (String, String)> {
    let candidates = candidates();
    let looked_for = candidates
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut failures = Vec::new();
    for path in &candidates {
        if path.is_absolute() && !path.exists() {
            continue;
        }
        match ort::init_from(path) {
            Ok(builder) => {
                return builder.with_name("stance").build().map_err(|e| {
                    (
                        format!("{} loaded but failed to start: {e}", path.display()),
                        looked_for.clone(),
                    )
                });
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    let reason = if failures.is_empty() {
        "no ONNX Runtime library found".to_string()
    } else {
        failures.join("; ")
    };
    Err((reason, looked_for))
}

fn library_file() -> String {
    if cfg!(target_os = "macos") {
        format!("libonnxruntime.{ORT_VERSION}.dylib")
    } else if cfg!(windows) {
        "onnxruntime.dll".to_string()
    } else {
        format!("libonnxruntime.so.{ORT_VERSION}")
    }
}

fn candidates() -> Vec<PathBuf> {
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return vec![PathBuf::from(path)];
    }
    let mut paths = Vec::new();
    if let Some(bundled) = option_env!("STANCE_BUNDLED_ORT") {
        paths.push(PathBuf::from(bundled));
    }
    if let Some(dir) = std::env::current_exe().ok().as_deref().and_then(Path::parent) {
        paths.push(dir.join(library_file()));
    }
    if let Some(cache) = user_cache() {
        paths.push(
            cache
                .join(format!("stance/onnxruntime-{ORT_VERSION}"))
                .join(library_file()),
        );
    }
    // Last: a bare name, resolved by the system loader's search path.
    paths.push(PathBuf::from(format!(
        "{}onnxruntime{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )));
    paths
}

fn user_cache() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
}
