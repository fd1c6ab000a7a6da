//! Idempotent replays: a repeated Idempotency-Key is answered from the commit that carries it,
//! so the answer survives restarts and holds across replicas without a database.

use mutator_core::MutationId;
use mutator_core::image_edit::ImageState;
use mutator_core::message::{REQUEST_DIGEST, trailer_value};
use mutator_forge::CommitInfo;

use super::{Intent, Outcome, Repository, ServiceError, view};
use crate::api::{FileView, MutationResponse, MutationStatus};
use mutator_core::BranchName;

pub async fn answer(
    repo: &Repository,
    branch: &BranchName,
    intent: &Intent,
    found: CommitInfo,
    key: &MutationId,
    digest: &str,
) -> Result<Outcome, ServiceError> {
    if trailer_value(&found.message, REQUEST_DIGEST) != Some(digest) {
        return Err(ServiceError::KeyReused {
            key: key.to_string(),
            commit: found.id.to_string(),
        });
    }
    let forge = repo.forge.as_ref();
    let files = forge
        .changed_files(&found.id)
        .await?
        .into_iter()
        .map(|(path, action)| FileView {
            path: path.to_string(),
            action,
        })
        .collect();
    let previous = match (intent, &found.parent) {
        (
            Intent::ImageUpdate {
                application,
                environment,
                ..
            },
            Some(parent),
        ) => {
            let path = Intent::values_path(repo, application, environment)?;
            let keys = &repo.settings.layout.image_keys;
            let bytes = forge.read_file(parent, &path).await?.unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            let read = |k| mutator_yaml_read(&text, k);
            Some(ImageState {
                tag: read(&keys.tag),
                repository: read(&keys.repository),
                digest: read(&keys.digest),
            })
        }
        _ => None,
    };
    tracing::info!(commit = %found.id, mutation_id = %key, "idempotent replay");
    Ok(Outcome {
        response: MutationResponse {
            status: MutationStatus::Committed,
            commit: view(branch, found),
            files,
            previous,
            diff: None,
            mutation_id: key.to_string(),
        },
        created: false,
        replayed: true,
    })
}

/// The previous state is informational on a replay: a file that cannot be read reports nothing.
fn mutator_yaml_read(text: &str, key: &mutator_yaml::KeyPath) -> Option<String> {
    mutator_yaml::get_scalar(text, key).ok().flatten()
}

