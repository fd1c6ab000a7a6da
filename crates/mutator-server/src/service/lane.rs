//! Lanes and group commit. All writes to one (repository, branch) go through one lane: a task
//! with a queue. While a commit is in flight, new requests wait; the next commit carries every
//! waiting request (up to the batch size), each planned on top of the previous one and answered
//! on its own. A request that fails (a bad values file, a failed precondition) fails alone; a
//! branch that moved re-plans the whole batch on the new head.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mutator_core::message::{
    CommitMessage, KIND, MUTATION_ID, ORDER, REQUEST_DIGEST, REQUESTED_BY, TAG, TARGET,
};
use mutator_core::{BranchName, RepoName};
use mutator_forge::{CommitId, CommitInfo, CommitRequest, ForgeError, Signature, retry_read};
use tokio::sync::{mpsc, oneshot};

use super::file_cache::FileCache;
use super::intent::{Intent, Plan};
use super::orders::OrderBook;
use super::snapshot::Snapshot;
use super::{Outcome, Repository, ServiceError, backoff, view};
use crate::api::{MutationResponse, MutationStatus};

/// How many times a batch is re-planned when the branch moves under it.
const MAX_ATTEMPTS: u32 = 8;
/// How often a batch's planned commit is sent again (after a transient failure that did not
/// land, or moved onto foreign commits that touched none of its files) before the batch is
/// planned again.
const MAX_RESENDS: u32 = 8;
/// How far back a commit that failed transiently is looked for (it may have landed).
const LANDED_WINDOW: usize = 20;
/// How long a rate limit that names no time is waited out (GitHub's advice: a minute).
const RATE_LIMIT_DEFAULT_WAIT: Duration = Duration::from_secs(60);
/// The longest a batch waits in total for rate limits and backoff before it gives up.
const MAX_TOTAL_WAIT: Duration = Duration::from_secs(120);
/// Requests that may wait in one lane; past that, callers are told to come back.
const QUEUE_CAPACITY: usize = 10_000;

/// One request waiting in a lane.
pub struct Job {
    pub intent: Intent,
    pub requested_by: String,
    pub digest: String,
    pub mutation_id: String,
    pub reply: oneshot::Sender<Result<Outcome, ServiceError>>,
}

/// The lanes of a process, created on first use.
pub struct Lanes {
    lanes: Mutex<HashMap<(RepoName, String), mpsc::Sender<Job>>>,
    author: Signature,
}

impl Lanes {
    pub fn new(author: Signature) -> Self {
        Self {
            lanes: Mutex::new(HashMap::new()),
            author,
        }
    }

    /// Queues a job on the lane of (repository, branch) and waits for its answer. `skip_ci` is
    /// whether the lane's commits carry `[skip ci]` (not on review branches of forges whose
    /// required checks must run before a merge).
    pub async fn submit(
        &self,
        repo: &Arc<Repository>,
        branch: &BranchName,
        skip_ci: bool,
        job_parts: JobParts,
    ) -> Result<Outcome, ServiceError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            intent: job_parts.intent,
            requested_by: job_parts.requested_by,
            digest: job_parts.digest,
            mutation_id: job_parts.mutation_id,
            reply,
        };
        let sender = self.sender(repo, branch, skip_ci)?;
        sender.try_send(job).map_err(|_| ServiceError::Busy)?;
        answer.await.map_err(|_| ServiceError::Busy)?
    }

    fn sender(
        &self,
        repo: &Arc<Repository>,
        branch: &BranchName,
        skip_ci: bool,
    ) -> Result<mpsc::Sender<Job>, ServiceError> {
        let mut lanes = self.lanes.lock().map_err(|_| ServiceError::Busy)?;
        let key = (repo.settings.name.clone(), branch.to_string());
        if let Some(sender) = lanes.get(&key)
            && !sender.is_closed()
        {
            return Ok(sender.clone());
        }
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run(
            repo.clone(),
            branch.clone(),
            self.author.clone(),
            skip_ci,
            receiver,
        ));
        lanes.insert(key, sender.clone());
        Ok(sender)
    }
}

/// What a caller hands to a lane.
pub struct JobParts {
    pub intent: Intent,
    pub requested_by: String,
    pub digest: String,
    pub mutation_id: String,
}

async fn run(
    repo: Arc<Repository>,
    branch: BranchName,
    author: Signature,
    skip_ci: bool,
    mut queue: mpsc::Receiver<Job>,
) {
    let max = repo.settings.batch_size.max(1);
    let mut book = OrderBook::default();
    let mut cache = FileCache::default();
    let mut known_head = None;
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < max {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut lane = LaneState {
            book: &mut book,
            cache: &mut cache,
            known_head: &mut known_head,
        };
        run_batch(&repo, &branch, &author, skip_ci, &mut lane, batch).await;
    }
}

/// What a lane carries from one batch to the next.
struct LaneState<'a> {
    book: &'a mut OrderBook,
    cache: &'a mut FileCache,
    /// The branch head as of this lane's own last commit. The next batch writes on it without
    /// reading the branch first; the compare-and-swap catches anyone who moved it since, and
    /// only then is the head read. One request per batch while the lane is the only writer.
    known_head: &'a mut Option<CommitId>,
}

/// Commits one batch, retrying what is safe to retry, and answers every job in it.
async fn run_batch(
    repo: &Repository,
    branch: &BranchName,
    author: &Signature,
    skip_ci: bool,
    lane: &mut LaneState<'_>,
    mut jobs: Vec<Job>,
) {
    let mut waited = Duration::ZERO;
    let mut last_error: Option<ForgeError> = None;
    for attempt in 1..=MAX_ATTEMPTS {
        // A caller that gave up is dropped before its change is planned, never half-applied.
        jobs.retain(|j| !j.reply.is_closed());
        if jobs.is_empty() {
            return;
        }
        let error = match attempt_batch(repo, branch, author, skip_ci, lane, &jobs).await {
            Ok(results) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
                return;
            }
            Err(BatchError::Final(e)) => {
                for job in jobs {
                    let _ = job.reply.send(Err(e.duplicate()));
                }
                return;
            }
            Err(BatchError::Retry(e)) => e,
        };
        let wait = match &error {
            ForgeError::RateLimited { retry_after, .. } => {
                retry_after.unwrap_or(RATE_LIMIT_DEFAULT_WAIT)
            }
            _ => backoff(attempt, &jobs[0].mutation_id),
        };
        if waited + wait > MAX_TOTAL_WAIT {
            last_error = Some(error);
            break;
        }
        tracing::warn!(%branch, attempt, jobs = jobs.len(), wait_ms = wait.as_millis() as u64, error = %error, "retrying the batch");
        tokio::time::sleep(wait).await;
        waited += wait;
        last_error = Some(error);
    }
    let final_error = |e: &Option<ForgeError>| match e {
        Some(ForgeError::Conflict { .. }) | None => ServiceError::TooManyConflicts {
            branch: branch.to_string(),
            attempts: MAX_ATTEMPTS,
        },
        Some(other) => ServiceError::Forge(other.clone()),
    };
    for job in jobs {
        let _ = job.reply.send(Err(final_error(&last_error)));
    }
}

enum BatchError {
    /// Worth re-reading the branch and planning the batch again.
    Retry(ForgeError),
    /// Every job of the batch fails with this.
    Final(ServiceError),
}

impl From<ForgeError> for BatchError {
    fn from(e: ForgeError) -> Self {
        if e.is_retryable() {
            BatchError::Retry(e)
        } else {
            BatchError::Final(ServiceError::Forge(e))
        }
    }
}

/// Plans every job on the current head and makes one commit for all their changes.
async fn attempt_batch(
    repo: &Repository,
    branch: &BranchName,
    author: &Signature,
    skip_ci: bool,
    lane: &mut LaneState<'_>,
    jobs: &[Job],
) -> Result<Vec<Result<Outcome, ServiceError>>, BatchError> {
    let book = &mut *lane.book;
    let forge = repo.forge.as_ref();
    // Any wait for the forge's write budget happens here, before the head is read.
    forge.reserve_write().await;
    let speculative = lane.known_head.is_some();
    let head = match lane.known_head.take() {
        Some(head) => head,
        None => retry_read("branch head", || forge.head(branch))
            .await?
            .ok_or_else(|| {
                BatchError::Final(ServiceError::UnknownBranch {
                    repository: repo.settings.name.to_string(),
                    branch: branch.to_string(),
                })
            })?,
    };
    if jobs.iter().any(|j| j.intent.order().is_some()) {
        book.catch_up(forge, &head).await?;
    }
    let mut applied: HashMap<String, u64> = HashMap::new();
    // Someone else committed since this lane last looked.
    let foreign = lane.cache.head().is_some_and(|cached| *cached != head);
    lane.cache.advance(forge, &head).await;
    let mut snapshot = Snapshot::with_known(forge, head.clone(), lane.cache.files());
    let mut plans: Vec<Result<Plan, ServiceError>> = Vec::with_capacity(jobs.len());
    for job in jobs {
        if let Some((target, order)) = job.intent.order() {
            let last = applied.get(&target).copied().max(book.last(&target));
            if let Some(last) = last.filter(|last| order < *last) {
                plans.push(Err(ServiceError::Superseded {
                    target,
                    order,
                    last,
                }));
                continue;
            }
        }
        match job.intent.plan(repo, branch, &mut snapshot, false).await {
            Ok(plan) => {
                snapshot.apply(&plan.changes);
                if let Some((target, order)) = job.intent.order() {
                    let slot = applied.entry(target).or_insert(order);
                    *slot = (*slot).max(order);
                }
                plans.push(Ok(plan));
            }
            Err(ServiceError::Forge(e)) if e.is_retryable() => return Err(BatchError::Retry(e)),
            Err(e) => plans.push(Err(e)),
        }
    }
    let changes = snapshot.changes();
    // Answers that no compare-and-swap will confirm (a noop, a refused request) must not rest
    // on a head that was only assumed: check it, and plan again on the real one if it moved.
    if speculative && (changes.is_empty() || plans.iter().any(Result::is_err)) {
        let actual = retry_read("branch head", || forge.head(branch)).await?;
        if actual.as_ref() != Some(&head) {
            return Err(BatchError::Retry(ForgeError::Conflict {
                branch: branch.to_string(),
                expected: head.to_string(),
                actual: actual.map_or_else(|| "(none)".to_owned(), |a| a.to_string()),
            }));
        }
    }
    let (commit, head, settled) = if changes.is_empty() {
        (forge.commit_info(&head).await?, head, true)
    } else {
        let message = batch_message(jobs, &plans, skip_ci);
        let first = changing(jobs, &plans)
            .next()
            .map(|j| j.mutation_id.clone())
            .unwrap_or_default();
        let mut parent = head;
        let mut tries = 0;
        loop {
            let request = CommitRequest {
                branch,
                parent: Some(&parent),
                changes: &changes,
                message: &message,
                author,
            };
            let error = match commit_or_find(forge, branch, request, &first).await {
                Ok(info) => break (info, parent, tries == 0 && !foreign),
                Err(e @ (ForgeError::Conflict { .. } | ForgeError::Transient(_)))
                    if tries < MAX_RESENDS =>
                {
                    e
                }
                Err(e) => return Err(e.into()),
            };
            tries += 1;
            if matches!(error, ForgeError::Transient(_)) {
                tokio::time::sleep(Duration::from_millis(10 * u64::from(tries))).await;
            }
            // Wait for the write budget first, then look at the branch, then write at once:
            // the shorter that window, the less often someone else's push lands inside it.
            forge.reserve_write().await;
            match where_now(forge, branch, &parent, &snapshot).await {
                Some(now) => {
                    if now != parent {
                        tracing::debug!(%branch, from = %parent, to = %now, "commit moved onto a foreign commit");
                    }
                    parent = now;
                }
                // Someone changed what the batch rests on (or it cannot be told): plan again.
                None => return Err(BatchError::Retry(error)),
            }
        }
    };
    let committed = !changes.is_empty();
    if committed {
        book.record(&head, &commit.id, &applied);
    }
    // A commit on exactly `head` holds the head plus these changes, so the snapshot's files
    // are its content; a batch that changed nothing leaves the head as is. GitLab may build
    // on a newer head (its locks are per file): then only the head's content is known, and
    // the next batch walks from there.
    if !committed {
        lane.cache.remember(&head, snapshot.into_files(false));
    } else if commit.parent.as_ref() == Some(&head) {
        lane.cache.remember(&commit.id, snapshot.into_files(true));
    } else {
        lane.cache.remember(&head, snapshot.into_files(false));
    }
    // Only where a commit confirms every read at its parent: on GitLab a write on an assumed
    // head would rest on reads (the pins) that nothing checks.
    // And only when the branch was quiet: after someone else's push a write on an assumed head
    // is likely to fail, and a failed write spends a slot of the write budget.
    if committed
        && settled
        && commit.parent.as_ref() == Some(&head)
        && forge.commits_on_exact_parent()
    {
        *lane.known_head = Some(commit.id.clone());
    }
    tracing::info!(commit = %commit.id, %branch, jobs = jobs.len(), committed, "batch done");
    Ok(jobs
        .iter()
        .zip(plans)
        .map(|(job, plan)| {
            let plan = plan?;
            let created = committed && !plan.changes.is_empty();
            Ok(Outcome {
                response: MutationResponse {
                    status: if created {
                        MutationStatus::Committed
                    } else {
                        MutationStatus::Noop
                    },
                    commit: view(branch, commit.clone()),
                    files: plan.files,
                    previous: plan.previous,
                    diff: None,
                    review: None,
                    mutation_id: job.mutation_id.clone(),
                },
                created,
                replayed: false,
            })
        })
        .collect())
}

/// Where the batch's commit can go now that its write on `from` failed: `from` itself when the
/// branch is still there (a transient failure), the new head when the branch moved only through
/// files the batch never looked at; `None` when the batch must be planned again (or that cannot
/// be told).
async fn where_now(
    forge: &dyn mutator_forge::Forge,
    branch: &BranchName,
    from: &CommitId,
    snapshot: &Snapshot<'_>,
) -> Option<CommitId> {
    let now = retry_read("branch head", || forge.head(branch))
        .await
        .ok()
        .flatten()?;
    if now == *from {
        return Some(now);
    }
    let changed = retry_read("changed paths", || forge.changed_between(from, &now))
        .await
        .ok()
        .flatten()?;
    changed
        .iter()
        .all(|path| !snapshot.rests_on(path))
        .then_some(now)
}

/// Sends the commit once. A write that failed transiently may still have landed: its trailer
/// (the first changing request's mutation id) says so.
async fn commit_or_find(
    forge: &dyn mutator_forge::Forge,
    branch: &BranchName,
    request: CommitRequest<'_>,
    first: &str,
) -> Result<CommitInfo, ForgeError> {
    let reason = match forge.commit(request).await {
        Err(ForgeError::Transient(reason)) => reason,
        other => return other,
    };
    let landed = retry_read("landed commit", || {
        forge.find_by_trailer(branch, MUTATION_ID, first, LANDED_WINDOW)
    })
    .await;
    match landed {
        Ok(Some(found)) => Ok(found),
        _ => Err(ForgeError::Transient(reason)),
    }
}

fn changing<'a>(
    jobs: &'a [Job],
    plans: &'a [Result<Plan, ServiceError>],
) -> impl Iterator<Item = &'a Job> {
    jobs.iter()
        .zip(plans)
        .filter(|(_, p)| p.as_ref().is_ok_and(|p| !p.changes.is_empty()))
        .map(|(j, _)| j)
}

/// One request: its own message. Several: a headline with the count, a body line per request
/// (with its details indented), and per request its trailers, in order, so the n-th
/// `Gitops-Request-Digest`, `Gitops-Requested-By`, `Gitops-Kind`, `Gitops-Target` and
/// `Gitops-Tag` belong to the n-th `Gitops-Mutation-Id`.
fn batch_message(jobs: &[Job], plans: &[Result<Plan, ServiceError>], skip_ci: bool) -> String {
    let members: Vec<(&Job, &Plan)> = jobs
        .iter()
        .zip(plans)
        .filter_map(|(j, p)| {
            p.as_ref()
                .ok()
                .filter(|p| !p.changes.is_empty())
                .map(|p| (j, p))
        })
        .collect();
    let mut message = match members.as_slice() {
        [(_, plan)] => plan.message.clone(),
        _ => {
            let mut m = CommitMessage::new(&format!("gitops: {} changes", members.len()));
            for (_, plan) in &members {
                m = m.body_line(plan.message.summary());
                for line in plan.message.body_lines() {
                    m = m.body_line(&format!("  {line}"));
                }
            }
            m
        }
    };
    for (job, plan) in &members {
        message = message
            .trailer(MUTATION_ID, &job.mutation_id)
            .trailer(REQUESTED_BY, &job.requested_by)
            .trailer(REQUEST_DIGEST, &job.digest)
            .trailer(KIND, plan.journal.kind)
            .trailer(TARGET, &plan.journal.target)
            .trailer(TAG, &plan.journal.tag);
    }
    if !skip_ci {
        message = message.without_skip_ci();
    }
    // Orders are recorded apart from the per-request trailers: they are read per target.
    for (job, _) in &members {
        if let Some((target, order)) = job.intent.order() {
            message = message.trailer(ORDER, &format!("{target}={order}"));
        }
    }
    message.render()
}
