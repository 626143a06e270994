//! An error as the binaries print it (`stance`, and `stance-bench`, which includes this file).

/// The error and its causes, each said once: an error that already ends with
/// its cause's text (an I/O error naming its file, say) does not repeat it.
pub fn message(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.ends_with(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_os_error_is_said_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let text = io.to_string();
        let error = anyhow::Error::new(stance::Error::Io {
            path: "a/checkpoint.json".into(),
            source: io,
        })
        .context("scoring into a");
        assert_eq!(message(&error), format!("scoring into a: a/checkpoint.json: {text}"));
    }
}
