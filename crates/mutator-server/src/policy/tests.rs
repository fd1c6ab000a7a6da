use serde_json::json;

use super::*;

fn rules() -> Vec<Rule> {
    yaml_serde::from_str(
        r#"
- name: payments-ci
  issuer: github-actions
  claims: { repository: acme/payments, ref: refs/heads/main }
  allow: { actions: [image-update], repositories: [default], applications: [payments], environments: [development, staging] }
- name: payments-release
  issuer: github-actions
  claims: { repository: acme/payments, ref: "refs/tags/v*" }
  allow: { actions: [image-update], applications: [payments], environments: [production] }
- name: gitlab-deploy-env
  issuer: gitlab
  claims: { project_path: "team-a/*", environment: production, ref_protected: "true" }
  allow: { actions: [image-update], environments: [production] }
- name: backstage
  token: backstage
  allow: { actions: [scaffold], templates: [cicd-pipeline, application] }
"#,
    )
    .unwrap()
}

fn policy() -> Policy {
    Policy {
        rules: rules(),
        open_for_embedded: false,
    }
}

fn github(repository: &str, git_ref: &str) -> Principal {
    let claims = json!({ "repository": repository, "ref": git_ref, "sub": format!("repo:{repository}:ref:{git_ref}") });
    Principal {
        identity: Identity::Issuer("github-actions".into()),
        subject: format!("repo:{repository}:ref:{git_ref}"),
        claims: claims.as_object().unwrap().clone(),
    }
}

fn update(app: &str, env: &str) -> Subject {
    Subject {
        action: Action::ImageUpdate,
        repository: "default".into(),
        application: Some(app.into()),
        environment: Some(env.into()),
        template: None,
    }
}

#[test]
fn a_repositorys_job_updates_its_own_application() {
    let allowed = policy()
        .decide(
            &github("acme/payments", "refs/heads/main"),
            &update("payments", "staging"),
        )
        .unwrap();
    assert_eq!(allowed.rule.as_deref(), Some("payments-ci"));
    let by = allowed.requested_by(&github("acme/payments", "refs/heads/main"));
    assert!(
        by.contains("repository=acme/payments") && by.contains("(rule payments-ci)"),
        "{by}"
    );
}

#[test]
fn repository_a_cannot_update_application_b() {
    let err = policy()
        .decide(
            &github("acme/payments", "refs/heads/main"),
            &update("orders", "staging"),
        )
        .unwrap_err();
    assert!(err.contains("application \"orders\""), "{err}");
    let err = policy()
        .decide(
            &github("acme/orders", "refs/heads/main"),
            &update("payments", "staging"),
        )
        .unwrap_err();
    assert!(err.contains("claim repository is \"acme/orders\""), "{err}");
}

#[test]
fn a_branch_job_cannot_touch_production_but_a_tag_job_can() {
    let err = policy()
        .decide(
            &github("acme/payments", "refs/heads/main"),
            &update("payments", "production"),
        )
        .unwrap_err();
    assert!(
        err.contains("production") || err.contains("refs/tags"),
        "{err}"
    );
    assert!(
        policy()
            .decide(
                &github("acme/payments", "refs/tags/v1.2.0"),
                &update("payments", "production")
            )
            .is_ok()
    );
}

#[test]
fn gitlab_environment_claims() {
    let principal = |env: &str, protected: &str| {
        Principal {
        identity: Identity::Issuer("gitlab".into()),
        subject: "project_path:team-a/payments:ref_type:branch:ref:main".into(),
        claims: json!({ "project_path": "team-a/payments", "environment": env, "ref_protected": protected })
            .as_object()
            .unwrap()
            .clone(),
    }
    };
    assert!(
        policy()
            .decide(
                &principal("production", "true"),
                &update("payments", "production")
            )
            .is_ok()
    );
    assert!(
        policy()
            .decide(
                &principal("staging", "true"),
                &update("payments", "production")
            )
            .is_err()
    );
    assert!(
        policy()
            .decide(
                &principal("production", "false"),
                &update("payments", "production")
            )
            .is_err()
    );
}

#[test]
fn backstage_may_scaffold_but_not_update_images() {
    let backstage = Principal {
        identity: Identity::Token("backstage".into()),
        subject: "backstage".into(),
        claims: Default::default(),
    };
    let scaffold = Subject {
        action: Action::Scaffold,
        repository: "default".into(),
        application: Some("payments".into()),
        environment: None,
        template: Some("cicd-pipeline".into()),
    };
    assert!(policy().decide(&backstage, &scaffold).is_ok());
    let err = policy()
        .decide(&backstage, &update("payments", "staging"))
        .unwrap_err();
    assert!(err.contains("action image-update"), "{err}");
}

#[test]
fn deny_by_default() {
    let stranger = Principal {
        identity: Identity::Token("other".into()),
        subject: "other".into(),
        claims: Default::default(),
    };
    let err = policy()
        .decide(&stranger, &update("payments", "staging"))
        .unwrap_err();
    assert!(err.contains("no policy rule covers"), "{err}");
    assert!(
        policy()
            .decide(&Principal::embedded(), &update("payments", "staging"))
            .is_err()
    );
    let open = Policy {
        rules: Vec::new(),
        open_for_embedded: true,
    };
    assert!(
        open.decide(&Principal::embedded(), &update("payments", "staging"))
            .is_ok()
    );
}

#[test]
fn a_missing_claim_denies() {
    let mut p = github("acme/payments", "refs/heads/main");
    p.claims.remove("ref");
    let err = policy()
        .decide(&p, &update("payments", "staging"))
        .unwrap_err();
    assert!(err.contains("no ref claim"), "{err}");
}
