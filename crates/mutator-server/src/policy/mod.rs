//! What a caller may change: deny-by-default rules that match an identity and its claims and
//! allow actions on repositories, applications, environments and templates.
//!
//! A denial says which rule came closest and what did not match, so whoever wrote the pipeline
//! can fix either the pipeline or the rule.

mod glob;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::auth::{Identity, Principal};

/// Something a request does, as rules name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Scaffold,
    ImageUpdate,
    Promote,
    Rollback,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Scaffold => "scaffold",
            Action::ImageUpdate => "image-update",
            Action::Promote => "promote",
            Action::Rollback => "rollback",
        })
    }
}

/// What a request wants to do, as far as the policy cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    pub action: Action,
    pub repository: String,
    #[serde(default)]
    pub application: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub template: Option<String>,
}

/// One rule of `policy:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    /// The issuer (by name) whose tokens the rule covers…
    #[serde(default)]
    pub issuer: Option<String>,
    /// …or the static token (by name).
    #[serde(default)]
    pub token: Option<String>,
    /// Claims that must match (exact or glob). A claim the token lacks does not match.
    #[serde(default)]
    pub claims: BTreeMap<String, String>,
    pub allow: Allow,
}

/// What a matching rule allows. Lists hold exact names or globs; an absent list allows any.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    pub actions: Vec<Action>,
    #[serde(default)]
    pub repositories: Option<Vec<String>>,
    #[serde(default)]
    pub applications: Option<Vec<String>>,
    #[serde(default)]
    pub environments: Option<Vec<String>>,
    #[serde(default)]
    pub templates: Option<Vec<String>>,
}

/// The rules, or none at all (the embedded default: its single token may do everything).
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub rules: Vec<Rule>,
    /// With no policy configured, the embedded token is allowed everything.
    pub open_for_embedded: bool,
}

/// An allowed request: which rule allowed it and which claims it relied on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    pub rule: Option<String>,
    pub claims: Vec<(String, String)>,
}

impl Allowed {
    /// The `Gitops-Requested-By` value: who, and on what grounds.
    pub fn requested_by(&self, principal: &Principal) -> String {
        let mut out = principal.to_string();
        for (k, v) in &self.claims {
            out.push_str(&format!(" {k}={v}"));
        }
        if let Some(rule) = &self.rule {
            out.push_str(&format!(" (rule {rule})"));
        }
        out
    }
}

impl Policy {
    /// Decides; the error is the reason for a 403.
    pub fn decide(&self, principal: &Principal, subject: &Subject) -> Result<Allowed, String> {
        if principal.identity == Identity::Embedded {
            return if self.open_for_embedded {
                Ok(Allowed {
                    rule: None,
                    claims: Vec::new(),
                })
            } else {
                Err("the embedded token is disabled once a policy is configured".to_owned())
            };
        }
        let mut closest: Option<(usize, String)> = None;
        for rule in self.rules.iter().filter(|r| covers(r, principal)) {
            match check(rule, principal, subject) {
                Ok(claims) => {
                    return Ok(Allowed {
                        rule: Some(rule.name.clone()),
                        claims,
                    });
                }
                Err((score, why)) => {
                    if closest.as_ref().is_none_or(|(best, _)| score > *best) {
                        closest = Some((score, format!("rule {:?}: {why}", rule.name)));
                    }
                }
            }
        }
        Err(match closest {
            Some((_, why)) => format!("not allowed to {} ({why})", subject.action),
            None => format!("no policy rule covers {principal}; nothing is allowed by default"),
        })
    }
}

fn covers(rule: &Rule, principal: &Principal) -> bool {
    match &principal.identity {
        Identity::Issuer(name) => rule.issuer.as_deref() == Some(name.as_str()),
        Identity::Token(name) => rule.token.as_deref() == Some(name.as_str()),
        Identity::Embedded => false,
    }
}

/// The claims used when the rule allows the request, or how far it got and why it did not.
fn check(
    rule: &Rule,
    principal: &Principal,
    subject: &Subject,
) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut score = 0;
    let mut used = Vec::new();
    for (name, pattern) in &rule.claims {
        match principal.claim(name) {
            Some(value) if glob::matches(pattern, &value) => {
                score += 1;
                used.push((name.clone(), value));
            }
            Some(value) => {
                return Err((
                    score,
                    format!("claim {name} is {value:?}, the rule wants {pattern:?}"),
                ));
            }
            None => {
                return Err((
                    score,
                    format!("the token has no {name} claim, which the rule needs"),
                ));
            }
        }
    }
    if !rule.allow.actions.contains(&subject.action) {
        return Err((
            score,
            format!(
                "action {} is not among {:?}",
                subject.action, rule.allow.actions
            ),
        ));
    }
    score += 1;
    let dimensions = [
        (
            "repository",
            Some(&subject.repository),
            &rule.allow.repositories,
        ),
        (
            "application",
            subject.application.as_ref(),
            &rule.allow.applications,
        ),
        (
            "environment",
            subject.environment.as_ref(),
            &rule.allow.environments,
        ),
        ("template", subject.template.as_ref(), &rule.allow.templates),
    ];
    for (what, value, allowed) in dimensions {
        let (Some(value), Some(allowed)) = (value, allowed) else {
            continue;
        };
        if !allowed.iter().any(|p| glob::matches(p, value)) {
            return Err((score, format!("{what} {value:?} is not among {allowed:?}")));
        }
        score += 1;
    }
    Ok(used)
}

#[cfg(test)]
mod tests;
