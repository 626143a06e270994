//! GPU checks: they need a CUDA GPU and ONNX Runtime's CUDA build, so they are
//! ignored by default. Run them on a GPU machine with:
//!
//! ```sh
//! ORT_DYLIB_PATH=/path/to/onnxruntime-gpu/capi/libonnxruntime.so.1.31.1 \
//!   cargo test --release --features cuda --test gpu -- --ignored
//! ```
//!
//! `STANCE_TEST_MODEL_DIR=models/stance-mini` loads the bundle from that directory
//! instead of the embedded one (for a test binary built without `embedded-model`,
//! as scripts/gpu-prepare.sh does to keep what travels to the GPU machine small).
#![cfg(feature = "cuda")]

use stance::{Analyzer, AnalyzerBuilder, Device};

fn builder() -> AnalyzerBuilder {
    match std::env::var_os("STANCE_TEST_MODEL_DIR") {
        Some(dir) => Analyzer::builder().model_dir(dir),
        None => Analyzer::builder(),
    }
}

const TEXT: &str = "Beijing has been a reliable partner. Washington keeps breaking its promises. \
India and China traded barbs over the border.";

#[test]
#[ignore = "needs a CUDA GPU: see the file header for the command"]
fn cuda_scores_match_cpu_and_report_the_device() {
    let gpu = builder().device(Device::Cuda(0)).build().unwrap();
    assert_eq!(gpu.info().device, Device::Cuda(0));
    let cpu = builder().device(Device::Cpu).build().unwrap();
    let (a, b) = (gpu.score_text(TEXT).unwrap(), cpu.score_text(TEXT).unwrap());
    assert_eq!(a.stances.len(), b.stances.len());
    for (x, y) in a.stances.iter().zip(&b.stances) {
        assert_eq!((x.sentence_index, &x.actor), (y.sentence_index, &y.actor));
        assert!((x.stance.score - y.stance.score).abs() < 1e-2, "{x:?} vs {y:?}");
    }
}

#[test]
#[ignore = "needs a CUDA build of ONNX Runtime without a usable GPU index 7"]
fn a_missing_gpu_is_an_error_not_a_cpu_fallback() {
    let err = builder().device(Device::Cuda(7)).build().err().unwrap();
    assert!(matches!(err, stance::Error::Device { .. }), "{err}");
}
