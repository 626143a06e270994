//! Inference backends. The pipeline only sees the [`Backend`] trait; only
//! `ort.rs` (and `runtime.rs`, which finds the shared library) import `ort`.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::batch::BatchTensors;
use crate::error::Result;

pub(crate) mod ort;
pub(crate) mod runtime;

/// Where the model runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Device {
    /// ONNX Runtime's CPU execution provider.
    #[default]
    Cpu,
    /// ONNX Runtime's CUDA execution provider on the GPU with this index
    /// (feature `cuda` and a CUDA build of ONNX Runtime).
    Cuda(u32),
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl std::str::FromStr for Device {
    type Err = crate::Error;

    /// Parses `cpu`, `cuda` (GPU 0) or `cuda:N`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || crate::Error::Config(format!("unknown device {s:?}: expected cpu, cuda or cuda:N"));
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Device::Cuda)
                .ok_or_else(bad),
        }
    }
}

/// Runs padded batches through a model. Implementations are shared across threads.
pub(crate) trait Backend: Send + Sync {
    /// Logits `[rows, labels]` for one batch.
    fn run(&self, batch: &BatchTensors) -> Result<Array2<f32>>;
    /// The device actually in use, e.g. `cpu` or `cuda:0`.
    fn device(&self) -> Device;
}
