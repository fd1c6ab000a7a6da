//! Idempotent replays: a repeated Idempotency-Key is answered from the commit that carries it,
//! so the answer survives restarts and holds across replicas without a database.

use mutator_core::MutationId;
use mutator_core::image_edit::read_image_state;
use mutator_core::message::{MUTATION_ID, REQUEST_DIGEST, trailer_values};
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
    // Trailers come in request order: the n-th digest belongs to the n-th mutation id.
    let ids = trailer_values(&found.message, MUTATION_ID);
    let digests = trailer_values(&found.message, REQUEST_DIGEST);
    let position = ids.iter().position(|id| *id == key.as_str());
    if position.and_then(|i| digests.get(i)) != Some(&digest) {
        return Err(ServiceError::KeyReused {
            key: key.to_string(),
            commit: found.id.to_string(),
        });
    }
    let forge = repo.forge.as_ref();
    // A group commit changed other requests' files too; answer with this request's only.
    let mine = intent.paths(repo)?;
    let files = forge
        .changed_files(&found.id)
        .await?
        .into_iter()
        .filter(|(path, _)| mine.contains(path))
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
            let bytes = forge.read_file(parent, &path).await?.unwrap_or_default();
            // The previous state is informational on a replay: a file that cannot be read
            // reports nothing rather than failing the replay.
            read_image_state(&bytes, &repo.settings.layout.format, application).ok()
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
            review: None,
            mutation_id: key.to_string(),
        },
        created: false,
        replayed: true,
    })
}
