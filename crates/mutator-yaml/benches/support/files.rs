//! The files the edit benchmarks measure, shared by the criterion bench and the
//! instruction-count example.

use std::fmt::Write as _;
use std::path::Path;

/// A Helm-style values file: many components, each with an image block, resources, a list of
/// env entries, comments and a flow mapping, about 30 lines per component.
pub fn generated_values(components: usize) -> String {
    let mut s = String::from(
        "# Generated values file for the benchmark.\nglobal:\n  imageRegistry: \"\"\n  pullSecrets: []\n\n",
    );
    for i in 0..components {
        let _ = write!(
            s,
            "# -- component {i}
component{i}:
  enabled: true
  replicaCount: {r}
  image:
    # -- image repository
    repository: ghcr.io/example/component-{i}
    tag: \"1.{i}.0\"
    pullPolicy: IfNotPresent
  resources:
    limits:
      cpu: 500m
      memory: 256Mi
    requests:
      cpu: 100m
      memory: 128Mi
  env:
    - name: LOG_LEVEL
      value: info
    - name: COMPONENT_ID
      value: \"{i}\"
  service:
    type: ClusterIP
    port: {port}
    annotations: {{ prometheus.io/scrape: \"true\", prometheus.io/port: '{port}' }}
  nodeSelector: {{}}
  tolerations: []
  affinity: {{}}
  podLabels:
    app.kubernetes.io/part-of: bench

",
            r = i % 3 + 1,
            port = 8000 + i,
        );
    }
    s
}

pub fn corpus_values() -> Option<String> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../../shared/corpus/helm-values/prometheus-community__helm-charts__charts__kube-prometheus-stack__values.yaml",
    );
    std::fs::read_to_string(file).ok()
}
