//! Pins: a rollback pins its environment so automation does not undo it. Pins live in the
//! repository itself, in one file the service owns, so they survive restarts, hold across
//! replicas and show in the history like every other change.

use serde::{Deserialize, Serialize};

use mutator_core::RepoPath;

/// Where the pins are kept.
pub const PINS_FILE: &str = ".gitops-mutator/pins.yaml";

pub fn pins_path() -> Result<RepoPath, String> {
    RepoPath::parse(PINS_FILE).map_err(|e| e.to_string())
}

/// One pinned environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    pub application: String,
    pub environment: String,
    /// Who pinned it (the `Gitops-Requested-By` of the rollback).
    pub by: String,
    /// Why: what the rollback restored.
    pub reason: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PinsFile {
    #[serde(default)]
    pins: Vec<Pin>,
}

const HEADER: &str = "# Written by gitops-mutator. A pinned environment refuses image updates and promotions\n# until the pin is lifted: DELETE /v1/pins/<application>/<environment>.\n";

/// The pins in the file's text (an absent file has none).
pub fn parse(bytes: Option<&[u8]>) -> Result<Vec<Pin>, String> {
    let Some(bytes) = bytes else {
        return Ok(Vec::new());
    };
    let text = std::str::from_utf8(bytes).map_err(|_| format!("{PINS_FILE} is not UTF-8"))?;
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    yaml_serde::from_str::<PinsFile>(text)
        .map(|f| f.pins)
        .map_err(|e| format!("{PINS_FILE} cannot be read: {e}"))
}

/// The file's text for these pins (sorted, so the same pins always give the same bytes).
pub fn render(pins: &[Pin]) -> Result<String, String> {
    let mut pins = pins.to_vec();
    pins.sort_by(|a, b| (&a.application, &a.environment).cmp(&(&b.application, &b.environment)));
    let body = yaml_serde::to_string(&PinsFile { pins }).map_err(|e| e.to_string())?;
    Ok(format!("{HEADER}{body}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let pins = vec![Pin {
            application: "payments".into(),
            environment: "production".into(),
            by: "token:embedded".into(),
            reason: "rollback to 1.4.1".into(),
        }];
        let text = render(&pins).unwrap();
        assert!(text.starts_with("# Written by gitops-mutator"));
        assert_eq!(parse(Some(text.as_bytes())).unwrap(), pins);
        assert!(parse(None).unwrap().is_empty());
        assert!(parse(Some(b"pins: [{ application: a }]")).is_err());
    }
}
