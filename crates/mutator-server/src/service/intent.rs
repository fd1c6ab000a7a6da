//! Intents and how each is planned against one head of the branch.

use mutator_core::image_edit::{ImageChange, ImageState, plan_image_edit, read_image_state};
use mutator_core::message::CommitMessage;
use mutator_core::{
    AppName, BranchName, ChangeSet, EnvName, FileAction, FileOp, ImageTag, RepoPath, diff,
};
use mutator_render::Rendered;

use super::pins;
use super::snapshot::Snapshot;
use super::{Repository, ServiceError};
use crate::api::FileView;

/// What a request wants, independent of the head it will be applied to.
pub enum Intent {
    Scaffold {
        template: String,
        rendered: Rendered,
    },
    ImageUpdate {
        application: AppName,
        environment: EnvName,
        change: ImageChange,
        expected: Option<ImageTag>,
        /// See `ImageUpdateRequest::order`.
        order: Option<u64>,
        /// An update from a pipeline, or a promotion from another environment.
        kind: UpdateKind,
        /// Apply even when the environment is pinned (the policy allowed it).
        force: bool,
    },
    /// Restore an environment's values file to earlier bytes and pin the environment.
    Rollback {
        application: AppName,
        environment: EnvName,
        /// The values file as it was.
        restore: Vec<u8>,
        /// What is restored, for the commit and the pin (`to 1.4.1 as of <commit>`).
        description: String,
        /// Who rolls back: the pin's holder.
        by: String,
    },
    /// Lift the pin of an environment.
    Unpin {
        application: AppName,
        environment: EnvName,
    },
}

/// Why an environment's image changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateKind {
    Update,
    Promotion { from: EnvName },
}

/// An intent applied to one head.
pub struct Plan {
    pub changes: ChangeSet,
    pub files: Vec<FileView>,
    pub previous: Option<ImageState>,
    pub diff: String,
    pub message: CommitMessage,
    pub journal: Journal,
}

/// What the history will say about the change: written as trailers, read back by `/v1/history`.
#[derive(Debug, Clone)]
pub struct Journal {
    pub kind: &'static str,
    pub target: String,
    /// `before -> after`, `-` standing for no tag.
    pub tag: String,
}

impl Intent {
    /// The values file an image update edits.
    pub fn values_path(
        repo: &Repository,
        app: &AppName,
        env: &EnvName,
    ) -> Result<RepoPath, ServiceError> {
        repo.settings.layout.values.resolve(app, env).map_err(|e| {
            ServiceError::Forge(mutator_forge::ForgeError::Rejected(format!(
                "repository layout: {e}"
            )))
        })
    }

    /// `(app/env, order)` when the request carries an order.
    pub fn order(&self) -> Option<(String, u64)> {
        match self {
            Intent::ImageUpdate {
                application,
                environment,
                order: Some(order),
                ..
            } => Some((format!("{application}/{environment}"), *order)),
            _ => None,
        }
    }

    /// The files the intent may write.
    pub fn paths(&self, repo: &Repository) -> Result<Vec<RepoPath>, ServiceError> {
        match self {
            Intent::Scaffold { rendered, .. } => {
                Ok(rendered.files.iter().map(|f| f.path.clone()).collect())
            }
            Intent::ImageUpdate {
                application,
                environment,
                ..
            } => Ok(vec![Self::values_path(repo, application, environment)?]),
            Intent::Rollback {
                application,
                environment,
                ..
            } => Ok(vec![
                Self::values_path(repo, application, environment)?,
                pins_file()?,
            ]),
            Intent::Unpin { .. } => Ok(vec![pins_file()?]),
        }
    }

    /// Plans the intent on the snapshot; the caller lays the plan's changes over it.
    pub async fn plan(
        &self,
        repo: &Repository,
        branch: &BranchName,
        snapshot: &mut Snapshot<'_>,
        with_diff: bool,
    ) -> Result<Plan, ServiceError> {
        match self {
            Intent::Scaffold { template, rendered } => {
                let mut changes = ChangeSet::new();
                let mut files = Vec::new();
                let mut text = String::new();
                let mut message =
                    CommitMessage::new(&format!("gitops({}): scaffold {template}", rendered.name));
                for file in &rendered.files {
                    let current = snapshot.read(&file.path).await?;
                    // Seed files (an environment's values) belong to the image updates once written.
                    let action = if file.create_only && current.is_some() {
                        FileAction::Unchanged
                    } else {
                        FileAction::classify(
                            current.as_deref(),
                            &FileOp::Put(file.content.clone().into_bytes()),
                        )
                    };
                    if action != FileAction::Unchanged {
                        changes.put(file.path.clone(), file.content.as_bytes());
                        message =
                            message.body_line(&format!("{} {}", action_word(action), file.path));
                        if with_diff {
                            let old = current.as_deref().map(String::from_utf8_lossy);
                            text.push_str(&diff::unified(
                                file.path.as_str(),
                                old.as_deref(),
                                Some(&file.content),
                            ));
                        }
                    }
                    files.push(FileView {
                        path: file.path.to_string(),
                        action,
                    });
                }
                Ok(Plan {
                    changes,
                    files,
                    previous: None,
                    diff: text,
                    message,
                    journal: Journal {
                        kind: "scaffold",
                        target: rendered.name.to_string(),
                        tag: "-".to_owned(),
                    },
                })
            }
            Intent::ImageUpdate {
                application,
                environment,
                change,
                expected,
                kind,
                force,
                ..
            } => {
                if !force {
                    let pins = pins::parse(snapshot.read(&pins_file()?).await?.as_deref())
                        .map_err(rejected)?;
                    if let Some(pin) = pins.iter().find(|p| {
                        p.application == application.as_str()
                            && p.environment == environment.as_str()
                    }) {
                        return Err(ServiceError::Pinned {
                            target: format!("{application}/{environment}"),
                            by: pin.by.clone(),
                            reason: pin.reason.clone(),
                        });
                    }
                }
                let path = Self::values_path(repo, application, environment)?;
                let current =
                    snapshot
                        .read(&path)
                        .await?
                        .ok_or_else(|| ServiceError::ValuesFileMissing {
                            path: path.to_string(),
                            branch: branch.to_string(),
                        })?;
                let edit = plan_image_edit(
                    &current,
                    &repo.settings.layout.format,
                    application,
                    change,
                    expected.as_ref(),
                )
                .map_err(|source| ServiceError::Edit {
                    path: path.to_string(),
                    source: Box::new(source),
                })?;
                let mut changes = ChangeSet::new();
                let mut text = String::new();
                let what = match (&change.tag, &change.digest) {
                    (Some(tag), _) => format!("image tag {tag}"),
                    (None, Some(digest)) => {
                        format!("image digest {}", short_digest(digest.as_str()))
                    }
                    (None, None) => "image".to_owned(),
                };
                let headline = match kind {
                    UpdateKind::Update => format!("gitops({application}/{environment}): {what}"),
                    UpdateKind::Promotion { from } => {
                        format!("gitops({application}/{environment}): promote {what} from {from}")
                    }
                };
                let mut message = CommitMessage::new(&headline);
                let action = if edit.changed() {
                    FileAction::Update
                } else {
                    FileAction::Unchanged
                };
                if edit.changed() {
                    for line in &edit.changes {
                        message = message.body_line(&format!("{path}: {line}"));
                    }
                    if with_diff {
                        let old = String::from_utf8_lossy(&current);
                        text = diff::unified(path.as_str(), Some(&old), Some(&edit.text));
                    }
                    changes.put(path.clone(), edit.text.into_bytes());
                }
                let before = edit.previous.tag.clone().unwrap_or_else(|| "-".to_owned());
                let after = change
                    .tag
                    .as_ref()
                    .map_or_else(|| before.clone(), |t| t.to_string());
                Ok(Plan {
                    changes,
                    files: vec![FileView {
                        path: path.to_string(),
                        action,
                    }],
                    previous: Some(edit.previous),
                    diff: text,
                    message,
                    journal: Journal {
                        kind: match kind {
                            UpdateKind::Update => "image-update",
                            UpdateKind::Promotion { .. } => "promotion",
                        },
                        target: format!("{application}/{environment}"),
                        tag: format!("{before} -> {after}"),
                    },
                })
            }
            Intent::Rollback {
                application,
                environment,
                restore,
                description,
                by,
            } => {
                let path = Self::values_path(repo, application, environment)?;
                let current =
                    snapshot
                        .read(&path)
                        .await?
                        .ok_or_else(|| ServiceError::ValuesFileMissing {
                            path: path.to_string(),
                            branch: branch.to_string(),
                        })?;
                let format = &repo.settings.layout.format;
                let before = read_image_state(&current, format, application).ok();
                let after = read_image_state(restore, format, application).ok();
                let tag = |s: &Option<ImageState>| {
                    s.as_ref()
                        .and_then(|s| s.tag.clone())
                        .unwrap_or_else(|| "-".to_owned())
                };
                let journal = Journal {
                    kind: "rollback",
                    target: format!("{application}/{environment}"),
                    tag: format!("{} -> {}", tag(&before), tag(&after)),
                };
                let mut message = CommitMessage::new(&format!(
                    "gitops({application}/{environment}): roll back image to {}",
                    tag(&after)
                ))
                .body_line(description)
                .body_line(&format!(
                    "{application}/{environment} is pinned until the pin is lifted"
                ));
                let mut changes = ChangeSet::new();
                let mut files = vec![FileView {
                    path: path.to_string(),
                    action: FileAction::Unchanged,
                }];
                if current != *restore {
                    changes.put(path.clone(), restore.clone());
                    files[0].action = FileAction::Update;
                    let pins_file = pins_file()?;
                    let old = snapshot.read(&pins_file).await?;
                    let mut pins = pins::parse(old.as_deref()).map_err(rejected)?;
                    pins.retain(|p| {
                        !(p.application == application.as_str()
                            && p.environment == environment.as_str())
                    });
                    pins.push(pins::Pin {
                        application: application.to_string(),
                        environment: environment.to_string(),
                        by: by.clone(),
                        reason: description.clone(),
                    });
                    let text = pins::render(&pins).map_err(rejected)?;
                    files.push(FileView {
                        path: pins_file.to_string(),
                        action: FileAction::classify(
                            old.as_deref(),
                            &FileOp::Put(text.clone().into_bytes()),
                        ),
                    });
                    changes.put(pins_file, text.into_bytes());
                    for line in diff_lines(&current, restore) {
                        message = message.body_line(&line);
                    }
                }
                let text = if with_diff && !changes.is_empty() {
                    diff::unified(
                        path.as_str(),
                        Some(&String::from_utf8_lossy(&current)),
                        Some(&String::from_utf8_lossy(restore)),
                    )
                } else {
                    String::new()
                };
                Ok(Plan {
                    changes,
                    files,
                    previous: before,
                    diff: text,
                    message,
                    journal,
                })
            }
            Intent::Unpin {
                application,
                environment,
            } => {
                let pins_file = pins_file()?;
                let old = snapshot.read(&pins_file).await?;
                let mut pins = pins::parse(old.as_deref()).map_err(rejected)?;
                let before = pins.len();
                pins.retain(|p| {
                    !(p.application == application.as_str()
                        && p.environment == environment.as_str())
                });
                let mut changes = ChangeSet::new();
                let mut action = FileAction::Unchanged;
                if pins.len() != before {
                    if pins.is_empty() {
                        changes.delete(pins_file.clone());
                        action = FileAction::Delete;
                    } else {
                        changes.put(
                            pins_file.clone(),
                            pins::render(&pins).map_err(rejected)?.into_bytes(),
                        );
                        action = FileAction::Update;
                    }
                }
                Ok(Plan {
                    changes,
                    files: vec![FileView {
                        path: pins_file.to_string(),
                        action,
                    }],
                    previous: None,
                    diff: String::new(),
                    message: CommitMessage::new(&format!(
                        "gitops({application}/{environment}): lift the pin"
                    )),
                    journal: Journal {
                        kind: "unpin",
                        target: format!("{application}/{environment}"),
                        tag: "-".to_owned(),
                    },
                })
            }
        }
    }
}

fn pins_file() -> Result<RepoPath, ServiceError> {
    pins::pins_path().map_err(rejected)
}

fn rejected(message: String) -> ServiceError {
    ServiceError::Forge(mutator_forge::ForgeError::Rejected(message))
}

/// The changed lines of a rollback, for the commit body (`- old` / `+ new`).
fn diff_lines(old: &[u8], new: &[u8]) -> Vec<String> {
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let mut out = Vec::new();
    for line in old_lines.iter().filter(|l| !new_lines.contains(l)).take(5) {
        out.push(format!("- {}", line.trim()));
    }
    for line in new_lines.iter().filter(|l| !old_lines.contains(l)).take(5) {
        out.push(format!("+ {}", line.trim()));
    }
    out
}

fn action_word(action: FileAction) -> &'static str {
    match action {
        FileAction::Create => "create",
        FileAction::Update => "update",
        FileAction::Delete => "delete",
        FileAction::Unchanged => "keep",
    }
}

fn short_digest(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}
