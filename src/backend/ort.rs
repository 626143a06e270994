//! The ONNX Runtime backend: a pool of sessions shared by worker threads.
//!
//! `Session::run` needs `&mut`, so each session serves one batch at a time;
//! a pool of `sessions` sessions with `intra_threads` threads each lets that
//! many batches run at once while keeping `sessions x intra_threads` within
//! the cores the caller granted (no oversubscription against rayon).

use std::sync::{Condvar, Mutex, PoisonError};

use ndarray::Array2;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::session::Session;
use ort::value::TensorRef;

use super::{runtime, Backend, Device};
use crate::batch::BatchTensors;
use crate::error::{Error, Result};
use crate::model::ModelBundle;

/// Session settings chosen by the analyzer builder.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SessionSettings {
    pub device: Device,
    pub sessions: usize,
    pub intra_threads: usize,
}

pub(crate) struct OrtBackend {
    pool: SessionPool,
    /// Input ids, attention mask and, when the graph has one, token type ids.
    inputs: Vec<String>,
    output: String,
    device: Device,
}

fn inference_error(context: impl Into<String>) -> impl FnOnce(String) -> Error {
    let context = context.into();
    move |message| Error::Inference {
        context,
        source: message.into(),
    }
}

impl OrtBackend {
    pub fn new(bundle: &ModelBundle, settings: SessionSettings) -> Result<Self> {
        let env = runtime::environment()?;
        let mut sessions = Vec::with_capacity(settings.sessions);
        for _ in 0..settings.sessions.max(1) {
            let mut builder = session_builder(env, settings)?;
            let session = builder
                .commit_from_memory(&bundle.onnx)
                .map_err(|e| match settings.device {
                    Device::Cpu => Error::model(
                        bundle.origin.join("model.onnx"),
                        format!("ONNX Runtime cannot load the model: {e}"),
                    ),
                    // Execution providers initialise the device when the session is created.
                    device => Error::Device {
                        device: device.to_string(),
                        reason: format!("creating a session failed: {e}"),
                    },
                })?;
            sessions.push(session);
        }
        let names = &bundle.config.onnx;
        check_graph_names(&sessions[0], &names.inputs, &names.output, bundle)?;
        Ok(OrtBackend {
            pool: SessionPool::new(sessions),
            inputs: names.inputs.clone(),
            output: names.output.clone(),
            device: settings.device,
        })
    }
}

fn session_builder(env: &ort::environment::Environment, settings: SessionSettings) -> Result<SessionBuilder> {
    let fail = |e: ort::Error<SessionBuilder>| inference_error("configuring an ONNX Runtime session")(e.to_string());
    let builder = Session::builder(env)
        .map_err(|e| inference_error("creating an ONNX Runtime session")(e.to_string()))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(fail)?
        .with_intra_threads(settings.intra_threads.max(1))
        .map_err(fail)?
        .with_inter_threads(1)
        .map_err(fail)?
        // Every batch has a new [rows, length] shape; ORT caches a memory plan per
        // shape, which only grows memory here and saves nothing.
        .with_memory_pattern(false)
        .map_err(fail)?;
    with_device(builder, settings.device)
}

#[cfg(feature = "cuda")]
fn with_device(builder: SessionBuilder, device: Device) -> Result<SessionBuilder> {
    match device {
        Device::Cpu => Ok(builder),
        Device::Cuda(index) => {
            let id =
                i32::try_from(index).map_err(|_| Error::Config(format!("CUDA device index {index} is too large")))?;
            let cuda = ort::ep::CUDA::default().with_device_id(id).build().error_on_failure();
            builder.with_execution_providers([cuda]).map_err(|e| Error::Device {
                device: device.to_string(),
                reason: format!(
                    "{e} (is this ONNX Runtime a CUDA build, with CUDA 13 and cuDNN 9 on the library path?)"
                ),
            })
        }
    }
}

#[cfg(not(feature = "cuda"))]
fn with_device(builder: SessionBuilder, device: Device) -> Result<SessionBuilder> {
    match device {
        Device::Cpu => Ok(builder),
        Device::Cuda(_) => Err(Error::Device {
            device: device.to_string(),
            reason: "this build of stance has no CUDA support: rebuild with `--features cuda`".into(),
        }),
    }
}

/// The graph must take exactly the inputs config.json names (no more: ONNX
/// Runtime refuses a run that leaves an input unfed) and produce its output.
fn check_graph_names(session: &Session, inputs: &[String], output: &str, bundle: &ModelBundle) -> Result<()> {
    let has_input = |name: &str| session.inputs().iter().any(|i| i.name() == name);
    let has_output = session.outputs().iter().any(|o| o.name() == output);
    let missing: Vec<&str> = inputs.iter().map(String::as_str).filter(|n| !has_input(n)).collect();
    let unnamed: Vec<&str> = session
        .inputs()
        .iter()
        .map(|i| i.name())
        .filter(|n| !inputs.iter().any(|named| named == n))
        .collect();
    if missing.is_empty() && unnamed.is_empty() && has_output {
        return Ok(());
    }
    Err(Error::model(
        bundle.origin.join("model.onnx"),
        format!(
            "graph does not match config.json: missing inputs {missing:?}, inputs config.json does not name \
             {unnamed:?}, output {output:?} present: {has_output}"
        ),
    ))
}

impl Backend for OrtBackend {
    fn run(&self, batch: &BatchTensors) -> Result<Array2<f32>> {
        let tensors = [&batch.input_ids, &batch.attention_mask, &batch.token_type_ids];
        let mut inputs = Vec::with_capacity(self.inputs.len());
        for (name, tensor) in self.inputs.iter().zip(tensors) {
            inputs.push((name.as_str(), view(tensor)?));
        }
        let mut session = self.pool.acquire();
        let context = || {
            format!(
                "running a batch of {} rows x {} tokens",
                batch.rows(),
                batch.input_ids.ncols()
            )
        };
        let outputs = session
            .get()
            .run(inputs)
            .map_err(|e| inference_error(context())(e.to_string()))?;
        let logits = outputs
            .get(&self.output)
            .ok_or_else(|| inference_error(context())(format!("model produced no output {:?}", self.output)))?
            .try_extract_array::<f32>()
            .map_err(|e| inference_error(context())(e.to_string()))?;
        let shape = logits.shape().to_vec();
        if shape.len() != 2 || shape[0] != batch.rows() {
            return Err(inference_error(context())(format!("unexpected logits shape {shape:?}")));
        }
        logits
            .into_dimensionality::<ndarray::Ix2>()
            .map(|a| a.to_owned())
            .map_err(|e| inference_error(context())(e.to_string()))
    }

    fn device(&self) -> Device {
        self.device
    }
}

fn view(array: &ndarray::Array2<i64>) -> Result<TensorRef<'_, i64>> {
    TensorRef::from_array_view(array.view()).map_err(|e| inference_error("preparing input tensors")(e.to_string()))
}

/// Sessions handed out one batch at a time; a caller waits while all are busy.
struct SessionPool {
    idle: Mutex<Vec<Session>>,
    returned: Condvar,
}

struct PooledSession<'p> {
    pool: &'p SessionPool,
    session: Option<Session>,
}

impl SessionPool {
    fn new(sessions: Vec<Session>) -> Self {
        SessionPool {
            idle: Mutex::new(sessions),
            returned: Condvar::new(),
        }
    }

    fn acquire(&self) -> PooledSession<'_> {
        // A poisoned lock only means another thread panicked mid-run; the sessions are still usable.
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(session) = idle.pop() {
                return PooledSession {
                    pool: self,
                    session: Some(session),
                };
            }
            idle = self.returned.wait(idle).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl PooledSession<'_> {
    fn get(&mut self) -> &mut Session {
        // Always Some until drop.
        self.session
            .as_mut()
            .unwrap_or_else(|| unreachable!("pooled session used after release"))
    }
}

impl Drop for PooledSession<'_> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(session);
            self.pool.returned.notify_one();
        }
    }
}
