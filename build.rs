//! Provisions ONNX Runtime for a fresh checkout, and notes whether the model can be embedded.
//!
//! `ort` is used with `load-dynamic`, so the ONNX Runtime shared library is
//! found at run time. So that `cargo run` and `cargo test` work on a fresh
//! machine with no manual step, this script takes `libonnxruntime` out of the
//! official PyPI wheel (`onnxruntime==1.31.1`, fetched with `pip download`, the
//! one network source such machines reach) into a per-user cache, and records
//! its path for the runtime search in `src/backend/runtime.rs`.
//!
//! Nothing here fails the build: without the library the crate still compiles
//! and reports at run time exactly what it looked for and how to fix it.
//! Set `STANCE_NO_ORT_FETCH=1` to skip the download (offline or packaged builds).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const ORT_VERSION: &str = "1.31.1";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=STANCE_NO_ORT_FETCH");
    println!("cargo:rerun-if-env-changed=STANCE_ORT_CACHE");
    println!("cargo::rustc-check-cfg=cfg(stance_embedded_model)");
    println!("cargo::rustc-check-cfg=cfg(stance_embedded_mid)");
    println!("cargo::rustc-check-cfg=cfg(stance_embedded_base)");
    check_embedded_model("stance-mini", "CARGO_FEATURE_EMBEDDED_MODEL", "stance_embedded_model");
    check_embedded_model("stance-mid", "CARGO_FEATURE_EMBEDDED_MID", "stance_embedded_mid");
    check_embedded_model("stance-base", "CARGO_FEATURE_EMBEDDED_BASE", "stance_embedded_base");
    match provision_ort() {
        Ok(path) => println!("cargo:rustc-env=STANCE_BUNDLED_ORT={}", path.display()),
        Err(why) => {
            println!("cargo:warning=ONNX Runtime {ORT_VERSION} not provisioned ({why}); set ORT_DYLIB_PATH at run time")
        }
    }
}

/// A bundle is compiled in only when its feature is on and the bundle exists,
/// so a source package without the (large) model still builds.
fn check_embedded_model(name: &str, feature: &str, cfg: &str) {
    let dir = Path::new("models").join(name);
    for file in ["model.onnx", "tokenizer.json", "config.json"] {
        println!("cargo:rerun-if-changed={}", dir.join(file).display());
    }
    if env::var_os(feature).is_none() {
        return;
    }
    let complete = ["model.onnx", "tokenizer.json", "config.json"]
        .iter()
        .all(|f| dir.join(f).is_file());
    if complete {
        println!("cargo:rustc-cfg={cfg}");
    } else {
        println!("cargo:warning=models/{name} is incomplete: the library is built without it embedded");
    }
}

fn cache_dir() -> Result<PathBuf, String> {
    if let Some(dir) = env::var_os("STANCE_ORT_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    let base = env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .ok_or("neither XDG_CACHE_HOME nor HOME is set")?;
    Ok(base.join("stance").join(format!("onnxruntime-{ORT_VERSION}")))
}

fn library_name() -> Result<String, String> {
    match env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux") => Ok(format!("libonnxruntime.so.{ORT_VERSION}")),
        Ok("macos") => Ok(format!("libonnxruntime.{ORT_VERSION}.dylib")),
        Ok("windows") => Ok("onnxruntime.dll".to_string()),
        other => Err(format!("no known ONNX Runtime wheel for target os {other:?}")),
    }
}

/// pip platform tags, newest first: 1.31 wheels are tagged manylinux_2_28, and
/// pip only accepts a tag at or below the one it is given.
fn wheel_platforms() -> Result<&'static [&'static str], String> {
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    match (os.as_str(), arch.as_str()) {
        ("linux", "x86_64") => Ok(&["manylinux_2_28_x86_64", "manylinux_2_27_x86_64"]),
        ("linux", "aarch64") => Ok(&["manylinux_2_28_aarch64", "manylinux_2_27_aarch64"]),
        ("macos", "aarch64") => Ok(&["macosx_14_0_arm64", "macosx_13_0_arm64"]),
        ("windows", "x86_64") => Ok(&["win_amd64"]),
        _ => Err(format!("no known ONNX Runtime wheel for {arch}-{os}")),
    }
}

fn provision_ort() -> Result<PathBuf, String> {
    let dir = cache_dir()?;
    let lib = dir.join(library_name()?);
    if lib.is_file() {
        return Ok(lib);
    }
    if env::var_os("STANCE_NO_ORT_FETCH").is_some() {
        return Err("STANCE_NO_ORT_FETCH is set".into());
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let wheel = download_wheel(&dir)?;
    extract_library(&wheel, &lib)?;
    let _ = std::fs::remove_file(&wheel);
    Ok(lib)
}

fn python() -> String {
    env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn download_wheel(dir: &Path) -> Result<PathBuf, String> {
    let mut command = Command::new(python());
    command.args([
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version",
        "3.11",
    ]);
    for platform in wheel_platforms()? {
        command.args(["--platform", platform]);
    }
    let status = command
        .arg(format!("onnxruntime=={ORT_VERSION}"))
        .arg("-d")
        .arg(dir)
        .status()
        .map_err(|e| format!("cannot run `{} -m pip`: {e}", python()))?;
    if !status.success() {
        return Err(format!("`pip download onnxruntime=={ORT_VERSION}` failed ({status})"));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| e.to_string())?;
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| "pip reported success but no wheel was written".into())
}

/// A wheel is a zip; Python's zipfile reads it, so no zip crate is needed at build time.
fn extract_library(wheel: &Path, lib: &Path) -> Result<(), String> {
    let name = lib.file_name().and_then(|n| n.to_str()).ok_or("bad library name")?;
    let script = "import sys, zipfile\n\
        z = zipfile.ZipFile(sys.argv[1])\n\
        data = z.read('onnxruntime/capi/' + sys.argv[2])\n\
        tmp = sys.argv[3] + '.part'\n\
        open(tmp, 'wb').write(data)\n\
        import os; os.replace(tmp, sys.argv[3])\n";
    let status = Command::new(python())
        .args(["-c", script])
        .arg(wheel)
        .arg(name)
        .arg(lib)
        .status()
        .map_err(|e| format!("cannot run python to unpack the wheel: {e}"))?;
    if status.success() && lib.is_file() {
        Ok(())
    } else {
        Err(format!("could not extract {name} from {}", wheel.display()))
    }
}
