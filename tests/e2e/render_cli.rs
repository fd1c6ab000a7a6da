use std::process::Command;

fn render(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gitops-mutator"))
        .arg("render")
        .args(args)
        .output()
        .expect("run gitops-mutator render")
}

const CICD: [&str; 10] = [
    "--template",
    "cicd-pipeline",
    "--set",
    "name=payments",
    "--set",
    "owner=team-a",
    "--set",
    "sourceRepoUrl=https://gitlab.example.com/team-a/payments.git",
    "--set",
    "awsRegion=eu-west-1",
];

#[test]
fn render_writes_the_files_offline() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let mut args = CICD.to_vec();
    args.extend(["--out", out_dir.to_str().unwrap()]);
    let out = render(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for path in [
        "apps/payments/manifests/namespace.yaml",
        "apps/payments/manifests/kro-cicd-pipeline.yaml",
        "apps/payments/argocd/application.yaml",
        "apps/payments/catalog-info.yaml",
    ] {
        let text = std::fs::read_to_string(out_dir.join(path)).unwrap();
        let doc: serde_json::Value = yaml_serde::from_str(&text).unwrap();
        assert!(doc["kind"].is_string(), "{path}: {text}");
    }
}

#[test]
fn render_prints_to_stdout_and_names_bad_fields() {
    let out = render(&CICD);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("# --- apps/payments/manifests/kro-cicd-pipeline.yaml"),
        "{stdout}"
    );
    assert!(stdout.contains("kind: CICDPipeline"), "{stdout}");

    let out = render(&["--template", "cicd-pipeline", "--set", "name=Bad_Name"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("values.name"), "{stderr}");
    let out = render(&["--template", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cicd-pipeline"));
}
