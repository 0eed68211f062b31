//! The closure test: every reference one object of a built tree makes to another resolves.
//!
//! Over the root platform (`out/`) and every golden case with an expected tree, it reads the
//! files back as the cluster, the controllers and Terraform would, adds what the add-ons platc
//! installs create (from the add-on table, `platc::model::addons`), and resolves each kind of
//! reference: principals to `ServiceAccount`s, `NetworkPolicy` peers to pods, every declared
//! call through both ends' policies, DNS and istiod from every pod, Prometheus to every sidecar,
//! Gateway selectors and `credentialName`s, route destinations to Services, ports and subset
//! pods, HPAs, PDBs and Rollouts to their workloads, `ConfigMap` keys and claims to what makes
//! them, every in-cluster address to a Service and port, Pod Identity associations to
//! `ServiceAccount`s, add-on releases to the table's pins, the cluster stage's reads to the
//! first stage's outputs, and each stage's S3 backend (`versions.tf`) to the state the other
//! stage reads and to what the runner's role may do. A dangling reference fails with its path.
//!
//! The second half plants one fault of each kind in the reference tree and checks that it is
//! caught.

#[path = "closure/checks.rs"]
mod checks;
#[path = "closure/netpol.rs"]
mod netpol;
#[path = "closure/world.rs"]
mod world;

#[path = "support/cases.rs"]
mod support;
use std::collections::BTreeMap;

use platc::model::Checked;

use crate::support::cases;
use crate::world::World;

fn failures(platform: &Checked, tree: &BTreeMap<String, String>) -> Vec<String> {
    let world = World::new(platform, tree);
    let mut out = checks::all(platform, &world);
    out.extend(checks::store_paths(platform, &world));
    out
}

#[test]
fn every_reference_of_every_tree_resolves() {
    let mut all = Vec::new();
    let mut objects = 0;
    for (name, platform, tree) in cases() {
        let world = World::new(&platform, &tree);
        objects += world.objects.len();
        all.extend(
            failures(&platform, &tree)
                .into_iter()
                .map(|f| format!("{name}: {f}")),
        );
    }
    assert!(objects > 200, "too few objects were read ({objects})");
    assert!(
        all.is_empty(),
        "{} dangling references:\n{}",
        all.len(),
        all.join("\n")
    );
}

/// The reference platform and its tree, to plant faults in.
fn reference() -> (Checked, BTreeMap<String, String>) {
    let (_, platform, tree) = cases()
        .into_iter()
        .find(|(name, _, _)| name == "online-boutique")
        .unwrap();
    (platform, tree)
}

/// Replaces `from` by `to` in the file at `path` (which must contain it), and returns the
/// failures the checks report for the changed tree.
fn planted(path: &str, from: &str, to: &str) -> Vec<String> {
    let (platform, mut tree) = reference();
    let text = tree.get_mut(path).unwrap_or_else(|| panic!("no {path}"));
    assert!(text.contains(from), "{path} does not contain `{from}`");
    *text = text.replacen(from, to, 1);
    failures(&platform, &tree)
}

fn assert_caught(path: &str, from: &str, to: &str, expected: &str) {
    let failures = planted(path, from, to);
    assert!(
        failures.iter().any(|f| f.contains(expected)),
        "planting `{to}` in {path} was not caught as `{expected}`; reported:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_reference_tree_is_clean_before_planting() {
    let (platform, tree) = reference();
    assert_eq!(failures(&platform, &tree), Vec::<String>::new());
}

#[test]
fn a_principal_without_a_service_account_is_caught() {
    assert_caught(
        "istio/services/frontend/authorizationpolicy.yaml",
        "sa/istio-ingressgateway",
        "sa/istio-ingressgateway-service-account",
        "names no ServiceAccount",
    );
}

#[test]
fn a_network_policy_peer_that_matches_no_pod_is_caught() {
    assert_caught(
        "kubernetes/services/cartservice/networkpolicy.yaml",
        "app: redis-cart",
        "app: redis",
        "matches no pod",
    );
}

#[test]
fn a_call_the_callee_refuses_is_caught() {
    assert_caught(
        "kubernetes/services/paymentservice/networkpolicy.yaml",
        "port: 50051",
        "port: 50052",
        "refuse the declared call",
    );
}

#[test]
fn a_pod_without_dns_is_caught() {
    assert_caught(
        "kubernetes/services/adservice/networkpolicy.yaml",
        "k8s-app: kube-dns",
        "k8s-app: coredns",
        "cannot reach DNS",
    );
}

#[test]
fn a_gateway_selector_without_pods_is_caught() {
    assert_caught(
        "istio/gateways/public/gateway.yaml",
        "istio: ingressgateway",
        "istio: gateway",
        "picks no gateway pod",
    );
}

#[test]
fn a_credential_without_a_certificate_is_caught() {
    assert_caught(
        "istio/edge/certificate-public.yaml",
        "secretName: public-tls",
        "secretName: public-cert",
        "is no Certificate's Secret",
    );
}

#[test]
fn a_route_to_a_missing_port_is_caught() {
    assert_caught(
        "istio/services/currencyservice/virtualservice.yaml",
        "number: 7000",
        "number: 7001",
        "has no port 7001",
    );
}

#[test]
fn a_subset_without_pods_is_caught() {
    assert_caught(
        "istio/services/checkoutservice/destinationrule.yaml",
        "- name: canary\n      labels:\n        app: checkoutservice",
        "- name: canary\n      labels:\n        app: checkout",
        "has no pod behind it",
    );
}

#[test]
fn an_autoscaler_of_a_missing_workload_is_caught() {
    assert_caught(
        "kubernetes/services/cartservice/hpa.yaml",
        "kind: Deployment\n    name: cartservice",
        "kind: Deployment\n    name: cart",
        "which does not exist",
    );
}

#[test]
fn a_file_system_policy_that_allows_no_mount_is_caught() {
    assert_caught(
        "terraform/aws/storage.tf.json",
        "\"elasticfilesystem:ClientMount\",",
        "",
        "allows no mount through a mount target",
    );
}

#[test]
fn a_subnet_tagged_for_another_cluster_is_caught() {
    assert_caught(
        "terraform/aws/network.tf.json",
        "\"kubernetes.io/cluster/boutique\": \"shared\"",
        "\"kubernetes.io/cluster/boutique-staging\": \"shared\"",
        "`kubernetes.io/cluster/boutique-staging` names no EKS cluster of the tree",
    );
}

#[test]
fn a_runner_that_cannot_release_its_lock_file_is_caught() {
    assert_caught(
        "terraform/aws/runner.tf.json",
        "\"s3:DeleteObject\"",
        "\"s3:DeleteObjectVersion\"",
        "may not s3:DeleteObject on online-boutique/cluster.tfstate.tflock",
    );
}

#[test]
fn a_cluster_stage_reading_another_state_is_caught() {
    assert_caught(
        "terraform/cluster/state.tf.json",
        "\"key\": \"online-boutique/aws.tfstate\"",
        "\"key\": \"online-boutique/network.tfstate\"",
        "the cluster stage does not read the state the first stage writes",
    );
}

#[test]
fn a_state_key_the_runner_may_not_use_is_caught() {
    assert_caught(
        "terraform/cluster/versions.tf",
        "    use_lockfile = true\n",
        "    kms_key_id   = \"arn:aws:kms:us-east-1:123456789012:key/6f1d2c3b\"\n    use_lockfile = true\n",
        "may not kms:Decrypt on arn:aws:kms:us-east-1:123456789012:key/6f1d2c3b",
    );
}

#[test]
fn an_autoscaler_condition_on_another_cluster_is_caught() {
    assert_caught(
        "terraform/aws/identity.tf.json",
        "k8s.io/cluster-autoscaler/boutique\"",
        "k8s.io/cluster-autoscaler/shop\"",
        "`k8s.io/cluster-autoscaler/shop` names no EKS cluster of the tree",
    );
}

#[test]
fn a_pod_identity_association_without_its_account_is_caught() {
    assert_caught(
        "terraform/aws/identity.tf.json",
        "\"service_account\": \"reviewservice\"",
        "\"service_account\": \"reviews\"",
        "which nothing creates",
    );
}

#[test]
fn an_address_without_a_service_is_caught() {
    assert_caught(
        "kubernetes/services/frontend/deployment.yaml",
        "cartservice.cartservice.svc.cluster.local:7070",
        "cartservice.cartservice.svc.cluster.local:7071",
        "Service has no port 7071",
    );
}

#[test]
fn an_unpinned_addon_value_is_caught() {
    assert_caught(
        "terraform/cluster/addons.tf.json",
        "\\\"serviceAccount\\\":{\\\"create\\\":true,\\\"name\\\":\\\"istio-ingressgateway\\\"}",
        "\\\"serviceAccount\\\":{\\\"create\\\":true}",
        "does not pin `serviceAccount.name`",
    );
}

#[test]
fn an_unpinned_value_in_the_helm_users_values_is_caught() {
    assert_caught(
        "helm/addons/istio-ingressgateway.values.yaml",
        "serviceAccount:\n  create: true\n  name: istio-ingressgateway\n",
        "serviceAccount:\n  create: true\n",
        "helm/addons/istio-ingressgateway.values.yaml does not pin `serviceAccount.name`",
    );
}

#[test]
fn a_gateway_without_readiness_gates_is_caught() {
    assert_caught(
        "terraform/cluster/addons.tf.json",
        "\"kubernetes_labels.istio_system_readiness_gates\"",
        "\"helm_release.istiod\"",
        "its namespace `istio-system` is not labelled",
    );
    assert_caught(
        "terraform/cluster/addons.tf.json",
        "\"helm_release.aws_load_balancer_controller\",\n          \"helm_release.istio_base\"\n        \
         ],\n        \"kind\": \"Namespace\"",
        "\"helm_release.aws_load_balancer_controller\"\n        ],\n        \"kind\": \"Namespace\"",
        "does not wait for the release that creates it",
    );
}

#[test]
fn a_gateway_that_stops_before_the_nlb_does_is_caught() {
    assert_caught(
        "helm/addons/istio-ingressgateway.values.yaml",
        "\\\"terminationDrainDuration\\\":\\\"180s\\\"",
        "\\\"terminationDrainDuration\\\":\\\"5s\\\"",
        "stop taking connections after 5s",
    );
    assert_caught(
        "terraform/cluster/addons.tf.json",
        "\\\"terminationGracePeriodSeconds\\\":210",
        "\\\"terminationGracePeriodSeconds\\\":30",
        "the kubelet kills the pods after 30s, before their 180s drain",
    );
    assert_caught(
        "terraform/cluster/addons.tf.json",
        "\\\"podDisruptionBudget\\\":{\\\"minAvailable\\\":1}",
        "\\\"podDisruptionBudget\\\":{\\\"minAvailable\\\":2}",
        "no PodDisruptionBudget that keeps a pod of 2",
    );
    assert_caught(
        "helm/addons/istio-ingressgateway.values.yaml",
        "\\\"proxyMetadata\\\":{\\\"EXIT_ON_ZERO_ACTIVE_CONNECTIONS\\\":\\\"false\\\"},",
        "",
        "the proxies stop once no connection is open",
    );
    assert_caught(
        "helm/addons/istio-ingressgateway.values.yaml",
        "    maxUnavailable: 0\n",
        "    maxUnavailable: 1\n",
        "a rollout may stop a pod before the NLB sends to its replacement",
    );
    assert_caught(
        "helm/addons/istio-ingressgateway.values.yaml",
        "        app: istio-ingressgateway\n",
        "        app: istio-gateway\n",
        "the spread over `\"topology.kubernetes.io/zone\"` selects",
    );
}

#[test]
fn a_sidecar_open_to_the_outside_without_an_aws_store_is_caught() {
    assert_caught(
        "istio/namespaces/frontend/sidecar.yaml",
        "mode: REGISTRY_ONLY",
        "mode: ALLOW_ANY",
        "`ALLOW_ANY`, though no pod of `frontend` reaches an AWS store",
    );
    assert_caught(
        "istio/namespaces/reviewservice/sidecar.yaml",
        "mode: ALLOW_ANY",
        "mode: REGISTRY_ONLY",
        "only the registry, though a pod of `reviewservice` calls an AWS store",
    );
    // Secrets alone are fetched by the node's driver.
    assert_caught_in(
        "secrets",
        "istio/namespaces/billing/sidecar.yaml",
        "mode: REGISTRY_ONLY",
        "mode: ALLOW_ANY",
        "no pod of `billing` reaches an AWS store",
    );
}

#[test]
fn nodes_or_add_ons_left_behind_by_a_cluster_upgrade_are_caught() {
    assert_caught(
        "terraform/aws/cluster.tf.json",
        "\"version\": \"${aws_eks_cluster.boutique.version}\"",
        "\"version\": \"1.33\"",
        "node group `general` does not follow its cluster's version",
    );
    assert_caught(
        "terraform/aws/cluster.tf.json",
        "\"addon_version\": \"${data.aws_eks_addon_version.coredns.version}\",\n",
        "",
        "add-on `coredns` does not take its cluster's version's",
    );
    assert_caught(
        "terraform/aws/cluster.tf.json",
        "\"addon_name\": \"coredns\",\n        \"kubernetes_version\"",
        "\"addon_name\": \"kube-proxy\",\n        \"kubernetes_version\"",
        "add-on `coredns` does not take its cluster's version's",
    );
}

#[test]
fn a_changed_config_file_without_a_new_checksum_is_caught() {
    assert_caught_in(
        "containers",
        "kubernetes/services/web/configmap.yaml",
        "level: info",
        "level: debug",
        "is not the checksum of the ConfigMap's data",
    );
}

#[test]
fn a_mount_of_a_missing_volume_or_key_is_caught() {
    let path = "kubernetes/services/web/deployment.yaml";
    assert_caught_in(
        "containers",
        path,
        "subPath: nginx",
        "subPath: ngnix",
        "which has no such key",
    );
    assert_caught_in(
        "containers",
        path,
        "name: web-config",
        "name: web-conf",
        "which does not exist",
    );
    assert_caught_in(
        "containers",
        path,
        "              name: cache",
        "              name: caches",
        "which the pod does not have",
    );
}

#[test]
fn a_config_map_key_nothing_writes_is_caught() {
    assert_caught(
        "terraform/cluster/stores.tf.json",
        "\"REVIEWS_DATABASE_HOST\"",
        "\"REVIEWS_DB_HOST\"",
        "which nothing writes",
    );
}

#[test]
fn a_missing_first_stage_output_is_caught() {
    assert_caught(
        "terraform/cluster/stores.tf.json",
        "outputs.database_reviews_address",
        "outputs.database_reviews_endpoint",
        "has no output `database_reviews_endpoint`",
    );
}

#[test]
fn a_store_the_pod_cannot_reach_is_caught() {
    assert_caught(
        "kubernetes/services/reviewservice/networkpolicy.yaml",
        "cidr: \"169.254.170.23/32\"",
        "cidr: \"169.254.170.2/32\"",
        "cannot reach the Pod Identity agent",
    );
}

#[test]
fn a_sidecar_prometheus_cannot_scrape_is_caught() {
    assert_caught(
        "kubernetes/services/emailservice/networkpolicy.yaml",
        "port: 15020",
        "port: 15021",
        "Prometheus may not scrape",
    );
}

#[test]
fn a_monitor_prometheus_does_not_select_is_caught() {
    assert_caught(
        "monitoring/platform/servicemonitor-istiod.yaml",
        "release: kube-prometheus-stack",
        "release: prometheus",
        "does not select it",
    );
}

#[test]
fn an_access_whose_network_the_cluster_does_not_admit_is_caught() {
    let (_, platform, mut tree) = cases()
        .into_iter()
        .find(|(name, _, _)| name == "jenkins-helm")
        .unwrap();
    let path = "terraform/aws/cluster.tf.json";
    let text = tree.get_mut(path).unwrap();
    assert!(text.contains("\"cidr_ipv4\": \"10.40.0.0/20\""));
    *text = text.replace(
        "\"cidr_ipv4\": \"10.40.0.0/20\"",
        "\"cidr_ipv4\": \"10.40.0.0/24\"",
    );
    let reported = failures(&platform, &tree);
    assert!(
        reported
            .iter()
            .any(|f| f.contains("does not admit 10.40.0.0/20 on 443")),
        "{reported:?}"
    );
}

#[test]
fn a_security_group_description_ec2_refuses_is_caught() {
    assert_caught(
        "terraform/aws/endpoints.tf.json",
        "The VPC interface endpoints",
        "The VPC's interface endpoints",
        "is refused by EC2",
    );
}

#[test]
fn a_log_group_a_database_makes_itself_is_caught() {
    assert_caught(
        "terraform/aws/databases.tf.json",
        "\"name\": \"/aws/rds/instance/online-boutique-reviews/postgresql\"",
        "\"name\": \"/aws/rds/instance/online-boutique-reviews/postgres\"",
        "writes to /aws/rds/instance/online-boutique-reviews/postgresql, which it does not make",
    );
}

#[test]
fn a_control_plane_monitor_eks_does_not_expose_is_caught() {
    assert_caught(
        "helm/addons/kube-prometheus-stack.values.yaml",
        "kubeScheduler:\n  enabled: false",
        "kubeScheduler:\n  enabled: true",
        "kubeScheduler is scraped",
    );
}

#[test]
fn a_rule_prometheus_does_not_select_is_caught() {
    assert_caught(
        "monitoring/services/cartservice/prometheusrule.yaml",
        "release: kube-prometheus-stack",
        "prometheus: k8s",
        "does not select it",
    );
}

#[test]
fn a_service_monitor_without_its_port_is_caught() {
    assert_caught(
        "monitoring/platform/servicemonitor-istiod.yaml",
        "port: http-monitoring",
        "port: monitoring",
        "no Service of `istio-system`",
    );
}

#[test]
fn a_metrics_port_prometheus_may_not_reach_is_caught() {
    let source = platc::source::Source::new(
        "platform.kdl",
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/golden/mesh-permissive/platform.kdl"
        ))
        .unwrap(),
    );
    let platform = platc::compile(&source, &platc::Options::default())
        .platform
        .unwrap();
    let mut tree = platc::diff::read_tree(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden/mesh-permissive/expected"
    )))
    .unwrap();
    assert_eq!(failures(&platform, &tree), Vec::<String>::new());
    let policy = "kubernetes/services/legacy/networkpolicy.yaml";
    let text = tree[policy].replace("- port: 8080", "- port: 8081");
    tree.insert(policy.into(), text);
    let found = failures(&platform, &tree);
    assert!(
        found
            .iter()
            .any(|f| f.contains("Prometheus may not scrape")),
        "not caught:\n{}",
        found.join("\n")
    );
}

/// With a public cluster endpoint the cluster stage would run outside the VPC; a service that
/// uses a `DocumentDB` cluster still brings the runner, and its users resolve.
#[test]
fn docdb_users_with_a_public_endpoint_still_have_the_runner() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden/docdb/platform.kdl"
    ))
    .unwrap();
    let public = text.replace(
        "cluster books version=\"1.33\" {",
        "cluster books version=\"1.33\" endpoint=public public-access-cidr=\"203.0.113.0/24\" reason=\"CI outside the VPC\" {",
    );
    assert_ne!(
        public, text,
        "the golden docdb case changed its cluster line"
    );
    let source = platc::source::Source::new("platform.kdl", public);
    let platform = platc::compile(&source, &platc::Options::default())
        .platform
        .unwrap();
    let tree = platc::build_tree(&platform).unwrap();
    assert!(
        tree.get("terraform/aws/runner.tf.json")
            .is_some_and(|t| t.contains("mongosh")),
        "no runner installing mongosh"
    );
    assert_eq!(failures(&platform, &tree), Vec::<String>::new());
    // Without the runner, the check says so.
    let mut bare = tree.clone();
    bare.remove("terraform/aws/runner.tf.json");
    let found = failures(&platform, &bare);
    assert!(
        found
            .iter()
            .any(|f| f.contains("no runner applies the cluster stage")),
        "not caught:\n{}",
        found.join("\n")
    );
}

/// Replaces `from` by `to` in the file at `path` of the golden case `case`, and returns the
/// failures the checks report for the changed tree.
fn planted_in(case: &str, path: &str, from: &str, to: &str) -> Vec<String> {
    let (_, platform, mut tree) = cases()
        .into_iter()
        .find(|(name, _, _)| name == case)
        .unwrap_or_else(|| panic!("no golden case {case}"));
    assert!(failures(&platform, &tree).is_empty(), "{case} is not clean");
    let text = tree.get_mut(path).unwrap_or_else(|| panic!("no {path}"));
    assert!(text.contains(from), "{path} does not contain `{from}`");
    *text = text.replacen(from, to, 1);
    failures(&platform, &tree)
}

fn assert_caught_in(case: &str, path: &str, from: &str, to: &str, expected: &str) {
    let failures = planted_in(case, path, from, to);
    assert!(
        failures.iter().any(|f| f.contains(expected)),
        "planting `{to}` in {case}/{path} was not caught as `{expected}`; reported:\n{}",
        failures.join("\n")
    );
}

#[test]
fn a_connection_uri_before_its_parts_is_caught() {
    assert_caught_in(
        "database",
        "kubernetes/services/orders/deployment.yaml",
        "$(PGUSER)@",
        "$(PGUSERNAME)@",
        "expands `$(PGUSERNAME)`, which is not set before it",
    );
}

#[test]
fn a_migration_job_its_network_policy_misses_is_caught() {
    assert_caught_in(
        "database",
        "kubernetes/services/orders/networkpolicy-schema.yaml",
        "app.kubernetes.io/component: migration",
        "app.kubernetes.io/component: migrate",
        "job-schema.yaml: cannot reach database `orders`",
    );
}

#[test]
fn a_migration_job_without_its_service_account_is_caught() {
    assert_caught_in(
        "database",
        "kubernetes/services/orders/job-schema.yaml",
        "serviceAccountName: orders",
        "serviceAccountName: orders-migrate",
        "job-schema.yaml: ServiceAccount `orders-migrate` does not exist",
    );
}

#[test]
fn a_migration_job_reading_a_config_map_key_nothing_writes_is_caught() {
    assert_caught_in(
        "database",
        "kubernetes/services/orders/job-schema.yaml",
        "key: PGHOST",
        "key: ORDERS_DATABASE_HOST",
        "job-schema.yaml: env `PGHOST` reads ConfigMap key",
    );
}

#[test]
fn a_service_entry_not_exported_to_the_caller_is_caught() {
    assert_caught_in(
        "external-calls",
        "istio/namespaces/shop/service-entry-api.stripe.com.yaml",
        "- \".\"",
        "- billing",
        "no ServiceEntry of the host with that port is exported to `shop`",
    );
}

#[test]
fn a_service_entry_without_the_called_port_is_caught() {
    assert_caught_in(
        "external-calls",
        "istio/namespaces/shop/service-entry-hooks.example.com.yaml",
        "number: 8443",
        "number: 9443",
        "no ServiceEntry of the host with that port",
    );
}

#[test]
fn an_outside_host_the_sidecar_does_not_list_is_caught() {
    assert_caught_in(
        "external-calls",
        "istio/namespaces/shop/sidecar.yaml",
        "- shop/smtp.example.com",
        "- shop/smtp.example.org",
        "the namespace's Sidecar does not list the host",
    );
}

#[test]
fn an_outside_port_the_network_policy_refuses_is_caught() {
    assert_caught_in(
        "external-calls",
        "kubernetes/services/web/networkpolicy.yaml",
        "- port: 8443",
        "- port: 8444",
        "web → hooks.example.com:8443: the NetworkPolicies",
    );
}

#[test]
fn an_outside_address_naming_another_host_is_caught() {
    assert_caught_in(
        "external-calls",
        "kubernetes/services/web/deployment.yaml",
        "https://api.stripe.com/v1",
        "https://api.stripe.com:8443/v1",
        "`STRIPE_URL` is",
    );
}

#[test]
fn a_bare_host_without_a_service_is_caught() {
    assert_caught_in(
        "external-calls",
        "kubernetes/services/web/deployment.yaml",
        "value: catalog.shop.svc.cluster.local",
        "value: catalogue.shop.svc.cluster.local",
        "names no Service",
    );
}

#[test]
fn a_cache_user_terraform_does_not_create_is_caught() {
    assert_caught_in(
        "stores",
        "terraform/aws/caches.tf.json",
        "\"user_id\": \"shop-sessions\"",
        "\"user_id\": \"shop-sessions-app\"",
        "env `SESSIONS_CACHE_USER` names no user",
    );
}

#[test]
fn a_cache_user_named_other_than_its_id_is_caught() {
    assert_caught_in(
        "stores",
        "terraform/aws/caches.tf.json",
        "\"user_name\": \"shop-sessions\"",
        "\"user_name\": \"sessions\"",
        "a name other than its id",
    );
}

#[test]
fn a_cache_the_pod_cannot_reach_is_caught() {
    assert_caught_in(
        "stores",
        "kubernetes/services/orders/networkpolicy.yaml",
        "port: 6379",
        "port: 6380",
        "cannot reach cache `sessions`",
    );
}

#[test]
fn a_docdb_host_from_another_output_is_caught() {
    assert_caught_in(
        "docdb",
        "terraform/cluster/stores.tf.json",
        "outputs.docdb_catalog_endpoint}",
        "outputs.docdb_catalog_master_secret}",
        "the endpoint of no DocumentDB cluster",
    );
}

#[test]
fn a_docdb_port_other_than_the_cluster_s_is_caught() {
    assert_caught_in(
        "docdb",
        "kubernetes/services/catalog/deployment.yaml",
        "value: \"27017\"",
        "value: \"27018\"",
        "not the port of DocumentDB cluster `catalog`",
    );
}

#[test]
fn a_docdb_uri_without_iam_authentication_is_caught() {
    assert_caught_in(
        "docdb",
        "terraform/aws/outputs.tf.json",
        "authMechanism=MONGODB-AWS",
        "authMechanism=SCRAM-SHA-1",
        "not a TLS, MONGODB-AWS URI",
    );
}

#[test]
fn a_docdb_security_group_closed_to_its_port_is_caught() {
    assert_caught_in(
        "docdb",
        "terraform/aws/docdbs.tf.json",
        "\"from_port\": 27017",
        "\"from_port\": 27018",
        "does not admit the cluster's nodes on 27017",
    );
}

#[test]
fn a_docdb_the_pod_cannot_reach_is_caught() {
    assert_caught_in(
        "docdb",
        "kubernetes/services/search/networkpolicy.yaml",
        "port: 27017",
        "port: 27018",
        "cannot reach DocumentDB cluster `catalog`",
    );
}

#[test]
fn a_docdb_user_role_missing_from_the_users_output_is_caught() {
    assert_caught_in(
        "docdb",
        "terraform/aws/outputs.tf.json",
        "\"${aws_iam_role.svc_search.arn}\"",
        "\"${aws_iam_role.svc_reviews.arn}\"",
        "is not in output `docdb_catalog_users`",
    );
}

#[test]
fn docdb_users_made_from_another_cluster_s_roles_are_caught() {
    assert_caught_in(
        "docdb",
        "terraform/cluster/docdbs.tf.json",
        "jsonencode(data.terraform_remote_state.aws.outputs.docdb_catalog_users)",
        "jsonencode(data.terraform_remote_state.aws.outputs.docdb_reviews_users)",
        "are output `docdb_reviews_users`, not `docdb_catalog_users`",
    );
}

#[test]
fn docdb_users_not_made_again_when_the_roles_change_are_caught() {
    assert_caught_in(
        "docdb",
        "terraform/cluster/docdbs.tf.json",
        "\"users\": \"${data.terraform_remote_state.aws.outputs.docdb_reviews_users}\"",
        "\"users\": \"${data.terraform_remote_state.aws.outputs.docdb_reviews_endpoint}\"",
        "not made again when output `docdb_reviews_users` changes",
    );
}

#[test]
fn docdb_users_made_with_another_cluster_s_master_secret_are_caught() {
    assert_caught_in(
        "docdb",
        "terraform/cluster/docdbs.tf.json",
        "outputs.docdb_catalog_master_secret}",
        "outputs.docdb_reviews_master_secret}",
        "is not the secret of DocumentDB cluster `catalog`",
    );
}

#[test]
fn a_docdb_the_runner_cannot_reach_is_caught() {
    assert_caught_in(
        "docdb",
        "terraform/aws/runner.tf.json",
        "\"referenced_security_group_id\": \"${aws_security_group.docdb_reviews.id}\"",
        "\"referenced_security_group_id\": \"${aws_security_group.docdb_catalog.id}\"",
        "the runner cannot reach DocumentDB cluster `reviews`",
    );
}

#[test]
fn a_docdb_master_secret_the_runner_may_not_read_is_caught() {
    assert_caught_in(
        "docdb",
        "terraform/aws/runner.tf.json",
        "\"${aws_docdb_cluster.reviews.master_user_secret[0].secret_arn}\"",
        "\"${aws_docdb_cluster.catalog.master_user_secret[0].secret_arn}\"",
        "may not read the master secret of DocumentDB cluster `reviews`",
    );
}

#[test]
fn a_runner_without_mongosh_is_caught() {
    assert_caught_in(
        "docdb",
        "terraform/aws/runner.tf.json",
        "npm install --global",
        "npm ci",
        "the runner does not install mongosh",
    );
}

#[test]
fn a_docdb_uri_naming_another_database_is_caught() {
    assert_caught_in(
        "docdb",
        "terraform/aws/outputs.tf.json",
        ":27017/reviews?",
        ":27017/books?",
        "not a TLS, MONGODB-AWS URI",
    );
}

#[test]
fn a_secret_key_the_role_may_not_decrypt_with_is_caught() {
    assert_caught_in(
        "docdb",
        "terraform/aws/identity.tf.json",
        "\"secretsmanager.eu-central-1.amazonaws.com\"",
        "\"ssm.eu-central-1.amazonaws.com\"",
        "may not decrypt secret `catalog-api-key`",
    );
}

#[test]
fn a_secret_volume_without_its_class_is_caught() {
    assert_caught_in(
        "secrets",
        "kubernetes/services/tokens/deployment.yaml",
        "secretProviderClass: tokens.jwt-keys",
        "secretProviderClass: tokens.jwt-key",
        "SecretProviderClass `tokens.jwt-key` does not exist",
    );
}

#[test]
fn a_secret_env_without_its_synced_key_is_caught() {
    assert_caught_in(
        "secrets",
        "kubernetes/services/tokens/deployment.yaml",
        "key: password",
        "key: passwd",
        "env `DB_PASSWORD` reads Secret key",
    );
}

#[test]
fn a_secret_the_role_may_not_read_is_caught() {
    assert_caught_in(
        "secrets",
        "kubernetes/services/billing/secretproviderclass-stripe-token.yaml",
        "objectName: /auth/stripe/token",
        "objectName: /auth/stripe/other",
        "the role of `billing/billing` may not read `/auth/stripe/other`",
    );
}

#[test]
fn a_stateful_set_naming_no_headless_service_is_caught() {
    assert_caught_in(
        "stateful",
        "kubernetes/services/orders-db/statefulset.yaml",
        "serviceName: orders-db-headless",
        "serviceName: orders-db",
        "names no headless Service",
    );
}

#[test]
fn a_headless_service_missing_the_pods_is_caught() {
    assert_caught_in(
        "stateful",
        "kubernetes/services/orders-db/service-headless.yaml",
        "  selector:\n    app: orders-db",
        "  selector:\n    app: orders",
        "does not select its pods",
    );
}

#[test]
fn a_claim_template_without_its_storage_class_is_caught() {
    assert_caught_in(
        "stateful",
        "kubernetes/services/cache/statefulset.yaml",
        "storageClassName: platc-gp3",
        "storageClassName: gp3",
        "uses StorageClass `gp3`, which does not exist",
    );
}

#[test]
fn a_mount_without_its_claim_template_is_caught() {
    assert_caught_in(
        "stateful",
        "kubernetes/services/cache/statefulset.yaml",
        "mountPath: /data\n              name: data",
        "mountPath: /data\n              name: cache-data",
        "mounts `cache-data`",
    );
}

#[test]
fn a_stateful_budget_that_picks_no_pod_is_caught() {
    assert_caught_in(
        "stateful",
        "kubernetes/services/cache/pdb.yaml",
        "matchLabels:\n      app: cache",
        "matchLabels:\n      app: redis",
        "picks no pod",
    );
}

#[test]
fn an_ebs_storage_class_without_the_driver_is_caught() {
    assert_caught_in(
        "stateful",
        "terraform/aws/cluster.tf.json",
        // The add-on's own name, not its version's data source's.
        "\"addon_name\": \"aws-ebs-csi-driver\",\n        \"addon_version\"",
        "\"addon_name\": \"aws-efs-csi-driver\",\n        \"addon_version\"",
        "no EBS CSI driver add-on",
    );
}

#[test]
fn a_request_authentication_without_gateway_pods_is_caught() {
    assert_caught_in(
        "routing",
        "istio/gateways/public/requestauthentication.yaml",
        "istio: ingressgateway",
        "istio: egressgateway",
        "picks no pod in `istio-system`",
    );
}

#[test]
fn a_required_issuer_no_request_authentication_checks_is_caught() {
    assert_caught_in(
        "routing",
        "istio/gateways/public/requestauthentication.yaml",
        "issuer: \"https://auth.example.com\"",
        "issuer: \"https://login.example.com\"",
        "issuer `https://auth.example.com` is checked by no RequestAuthentication",
    );
}

#[test]
fn an_ingress_host_the_gateway_does_not_bind_is_caught() {
    assert_caught_in(
        "routing",
        "istio/gateways/public/gateway.yaml",
        "- istio-system/www.shop.example.com",
        "- web/www.shop.example.com",
        "does not serve `www.shop.example.com` to namespace `istio-system`",
    );
}

#[test]
fn a_rollout_naming_an_ingress_route_elsewhere_is_caught() {
    assert_caught_in(
        "routing",
        "rollouts/web/rollout.yaml",
        "public-shop-example-com.istio-system",
        "public-shop-example-com.web",
        "VirtualService `public-shop-example-com` does not exist",
    );
}

#[test]
fn a_rollout_naming_a_missing_ingress_route_is_caught() {
    assert_caught_in(
        "routing",
        "rollouts/web/rollout.yaml",
        "- web-1-primary",
        "- web-primary",
        "route `web-primary` is not in `public-shop-example-com`",
    );
}

#[test]
fn a_subset_that_picks_every_version_is_caught() {
    assert_caught_in(
        "versions",
        "istio/services/reviews/destinationrule.yaml",
        "        version: v2\n",
        "",
        "subset `v2` picks the pods of 3 workloads",
    );
}

#[test]
fn a_peer_port_the_network_policy_refuses_is_caught() {
    assert_caught_in(
        "stateful-peers",
        "kubernetes/services/etcd/networkpolicy.yaml",
        "    - ports:\n        - port: 2380",
        "    - ports:\n        - port: 2381",
        "etcd peers on 2380: the NetworkPolicies",
    );
}

#[test]
fn a_version_deployment_labelled_as_another_is_caught() {
    assert_caught_in(
        "versions",
        "kubernetes/services/reviews/deployment-v3.yaml",
        "        version: v3\n",
        "        version: v2\n",
        "subset `v2` picks the pods of 2 workloads",
    );
}

#[test]
fn a_peer_the_authorization_policy_refuses_is_caught() {
    assert_caught_in(
        "stateful-peers",
        "istio/services/etcd/authorizationpolicy.yaml",
        "cluster.local/ns/etcd/sa/etcd",
        "cluster.local/ns/api/sa/api",
        "etcd peers on 2380: no AuthorizationPolicy admits `cluster.local/ns/etcd/sa/etcd`",
    );
}

#[test]
fn a_weighted_split_that_misses_100_is_caught() {
    assert_caught_in(
        "versions",
        "istio/services/reviews/virtualservice.yaml",
        "weight: 20",
        "weight: 25",
        "route `primary` splits 105% of its requests",
    );
}

#[test]
fn a_peer_host_the_sidecar_does_not_list_is_caught() {
    assert_caught_in(
        "stateful-peers",
        "istio/namespaces/etcd/sidecar.yaml",
        "etcd/etcd-headless.etcd",
        "etcd/etcd.etcd",
        "the namespace's Sidecar does not list `etcd/etcd-headless",
    );
}

#[test]
fn a_headless_service_hiding_starting_peers_is_caught() {
    assert_caught_in(
        "stateful-peers",
        "kubernetes/services/etcd/service-headless.yaml",
        "publishNotReadyAddresses: true",
        "publishNotReadyAddresses: false",
        "does not publish pods that are not ready",
    );
}

#[test]
fn a_jwt_prefix_holding_a_more_specific_open_route_is_caught() {
    assert_caught_in(
        "jwt-route-scope",
        "istio/gateways/public/authorizationpolicy-jwt.yaml",
        "\"/api/public/*\"",
        "\"/api/publik/*\"",
        "`shop.example.com/api/public/` goes to the route requiring {}",
    );
}

#[test]
fn a_jwt_route_its_policy_misses_is_caught() {
    assert_caught_in(
        "jwt-route-scope",
        "istio/gateways/public/authorizationpolicy-jwt.yaml",
        "\"/api/partners/*\"\n              - /api/partners\n    - from",
        "\"/api/partner/*\"\n              - /api/partner\n    - from",
        "`shop.example.com/api/partners/` goes to the route requiring",
    );
}

#[test]
fn an_egress_subset_without_the_host_as_sni_is_caught() {
    assert_caught_in(
        "mesh-egress",
        "istio/namespaces/checkout/egress-destinationrule.yaml",
        "sni: api.stripe.com",
        "sni: api.stripe.org",
        "checkout → api.stripe.com:443 through the egress gateway: no DestinationRule subset",
    );
}

#[test]
fn an_egress_gateway_selecting_other_pods_is_caught() {
    assert_caught_in(
        "mesh-egress",
        "istio/egress/gateway.yaml",
        "istio: egressgateway",
        "istio: ingressgateway",
        "no Gateway on add-on istio-egressgateway",
    );
}

#[test]
fn an_egress_route_naming_a_missing_gateway_is_caught() {
    assert_caught_in(
        "mesh-egress",
        "istio/egress/virtualservice-smtp-example-com.yaml",
        "gateways:\n    - istio-egressgateway",
        "gateways:\n    - istio-egress",
        "gateway `istio-egress` does not exist",
    );
}

#[test]
fn an_egress_caller_the_gateway_policy_does_not_admit_is_caught() {
    assert_caught_in(
        "mesh-egress",
        "istio/egress/authorizationpolicy.yaml",
        "- cluster.local/ns/billing/sa/billing\n      to:\n        - operation:\n            ports:\n              - \"80\"",
        "- cluster.local/ns/checkout/sa/checkout\n      to:\n        - operation:\n            ports:\n              - \"80\"",
        "billing → partner.example.com:80 through the egress gateway: no AuthorizationPolicy",
    );
}

#[test]
fn an_egress_caller_whose_network_policy_misses_the_gateway_is_caught() {
    assert_caught_in(
        "mesh-egress",
        "kubernetes/services/checkout/networkpolicy.yaml",
        "app: istio-egressgateway",
        "app: istio-ingressgateway",
        "checkout → smtp.example.com:587 through the egress gateway: the NetworkPolicies",
    );
}

#[test]
fn an_egress_gateway_held_from_the_outside_port_is_caught() {
    assert_caught_in(
        "mesh-egress",
        "kubernetes/egress/networkpolicy.yaml",
        "- port: 587",
        "- port: 588",
        "refuse the outside on 587",
    );
}

#[test]
fn an_egress_gateway_prometheus_may_not_scrape_is_caught() {
    assert_caught_in(
        "mesh-egress",
        "kubernetes/egress/networkpolicy.yaml",
        "        - port: 15020",
        "        - port: 15021",
        "podmonitor-istio-egressgateway.yaml: Prometheus may not scrape add-on istio-egressgateway",
    );
}

#[test]
fn a_prefix_route_without_its_bare_path_is_caught() {
    assert_caught_in(
        "jwt-route-scope",
        "istio/gateways/public/virtualservice-public-shop-example-com.yaml",
        "exact: /api/partners\n",
        "exact: /api/partnerz\n",
        "`shop.example.com/api/partners` goes to another route than `shop.example.com/api/partners/`",
    );
}

#[test]
fn a_jwt_policy_without_a_prefix_bare_path_is_caught() {
    assert_caught_in(
        "routing",
        "istio/gateways/public/authorizationpolicy-jwt.yaml",
        "              - /api/admin\n      when:\n        - key: \"request.auth.claims[groups]\"",
        "      when:\n        - key: \"request.auth.claims[groups]\"",
        "`shop.example.com/api/admin` goes to the route requiring",
    );
}

#[test]
fn a_password_class_reading_another_secret_is_caught() {
    assert_caught_in(
        "database-password",
        "kubernetes/services/ledger/secretproviderclass-ledger-password.yaml",
        "objectName: pay/database/ledger/ledger",
        "objectName: pay/database/ledger/audit",
        "the password of `ledger` is in `pay/database/ledger/ledger`, which no pod of `ledger` mounts",
    );
}

#[test]
fn a_password_grant_on_another_secret_is_caught() {
    assert_caught_in(
        "database-password",
        "terraform/aws/identity.tf.json",
        "${aws_secretsmanager_secret.db_ledger_ledger.arn}",
        "${aws_secretsmanager_secret.db_invoices_billing.arn}",
        "the role of `ledger/ledger` may not read `pay/database/ledger/ledger`",
    );
}

#[test]
fn a_password_secret_renamed_in_terraform_is_caught() {
    assert_caught_in(
        "database-password",
        "terraform/aws/databases.tf.json",
        "\"name\": \"pay/database/ledger/ledger\"",
        "\"name\": \"pay/database/ledger/renamed\"",
        "which no pod of `ledger` mounts",
    );
}

#[test]
fn a_password_read_back_from_another_version_is_caught() {
    assert_caught_in(
        "database-password",
        "terraform/cluster/databases.tf.json",
        "\"version_id\": \"${aws_secretsmanager_secret_version.db_ledger_ledger.version_id}\"",
        "\"version_id\": \"${aws_secretsmanager_secret_version.db_invoices_billing.version_id}\"",
        "is not read back from the secret its version is written into",
    );
}

#[test]
fn a_password_env_var_reading_an_unsynced_key_is_caught() {
    assert_caught_in(
        "database-password",
        "kubernetes/services/billing/deployment.yaml",
        "key: password",
        "key: passwd",
        "env `SPRING_DATASOURCE_PASSWORD` reads Secret key",
    );
}

/// `text` without its `uses database` and `uses docdb` lines (and their blocks).
fn without_database_uses(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if skipping {
            skipping = trimmed != "}";
            continue;
        }
        if trimmed.starts_with("uses database ") || trimmed.starts_with("uses docdb ") {
            skipping = trimmed.ends_with('{');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The `section` blocks of the cluster stage's files: `(type, name, body)`.
fn cluster_blocks(
    tree: &BTreeMap<String, String>,
    section: &str,
) -> Vec<(String, String, serde_json::Value)> {
    let mut out = Vec::new();
    for (path, text) in tree {
        if !(path.starts_with("terraform/cluster/") && path.ends_with(".tf.json")) {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        for (kind, blocks) in value[section].as_object().into_iter().flatten() {
            match blocks {
                // A provider's one configuration.
                serde_json::Value::Object(body) if section == "provider" => {
                    let alias = body
                        .get("alias")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    out.push((kind.clone(), alias, blocks.clone()));
                }
                serde_json::Value::Object(named) => out.extend(
                    named
                        .iter()
                        .map(|(name, body)| (kind.clone(), name.clone(), body.clone())),
                ),
                // A provider's configurations: a list, each with its alias.
                serde_json::Value::Array(list) => out.extend(list.iter().map(|body| {
                    let alias = body["alias"].as_str().unwrap_or_default().to_owned();
                    (kind.clone(), alias, body.clone())
                })),
                _ => {}
            }
        }
    }
    out
}

/// When the last service stops using a database or a `DocumentDB` cluster, the cluster stage
/// still configures (and requires) every provider its users were made with: Terraform
/// destroys a resource with the provider of its state, and fails every plan once that
/// provider's configuration is gone. The `DocumentDB` users' reconciliation still runs, with no
/// users, so that the last service's user is dropped too. The tree without the `uses` lines
/// resolves as well (the runner still reads each master secret).
#[test]
fn the_users_of_a_stores_last_service_are_dropped_by_their_own_provider() {
    for case in ["database", "database-password", "docdb"] {
        let path = format!("{}/golden/{case}/platform.kdl", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        let bare = without_database_uses(&text);
        assert_ne!(bare, text, "{case} uses no database");
        let build = |text: &str| {
            let source = platc::source::Source::new("platform.kdl", text);
            let platform = platc::compile(&source, &platc::Options::default())
                .platform
                .unwrap_or_else(|| panic!("{case} does not compile"));
            let tree = platc::build_tree(&platform).unwrap();
            (platform, tree)
        };
        let (_, used) = build(&text);
        let (bare_platform, bare_tree) = build(&bare);
        // Every provider (`name` or `name.alias`) a resource of the stage was made with.
        let made_with: std::collections::BTreeSet<String> = cluster_blocks(&used, "resource")
            .into_iter()
            .map(|(kind, _, body)| {
                body["provider"]
                    .as_str()
                    .map_or_else(|| kind.split('_').next().unwrap().to_owned(), str::to_owned)
            })
            .collect();
        let configured: std::collections::BTreeSet<String> = cluster_blocks(&bare_tree, "provider")
            .into_iter()
            .map(|(name, alias, _)| {
                if alias.is_empty() {
                    name
                } else {
                    format!("{name}.{alias}")
                }
            })
            .collect();
        let required = bare_tree
            .get("terraform/cluster/versions.tf")
            .cloned()
            .unwrap_or_default();
        // A database's provider (`name.alias`), or `DocumentDB`'s reconciliation.
        assert!(
            made_with
                .iter()
                .any(|p| p.contains('.') || p == "terraform"),
            "{case}: no user to check, only {made_with:?}"
        );
        for provider in &made_with {
            // Built in: `terraform_data`.
            if provider == "terraform" {
                continue;
            }
            assert!(
                configured.contains(provider),
                "{case}: without its users the cluster stage has no provider {provider}, \
                 only {configured:?}"
            );
            let name = provider.split('.').next().unwrap();
            assert!(
                required.contains(&format!("    {name} = {{")),
                "{case}: without its users the cluster stage requires no provider {name}"
            );
        }
        // Each `DocumentDB` cluster's users are still reconciled, to none.
        let reconciled = |tree: &BTreeMap<String, String>| -> Vec<String> {
            cluster_blocks(tree, "resource")
                .into_iter()
                .filter(|(kind, _, _)| kind == "terraform_data")
                .map(|(_, name, _)| name)
                .collect()
        };
        assert_eq!(
            reconciled(&used),
            reconciled(&bare_tree),
            "{case}: the DocumentDB users' reconciliation went with the last service"
        );
        assert_eq!(
            failures(&bare_platform, &bare_tree),
            Vec::<String>::new(),
            "{case} without its uses"
        );
    }
}

/// A running service's namespace changes hands with the cluster stage both ways: imported
/// when its first store comes, forgotten (never deleted) when its last goes.
#[test]
fn a_namespace_the_cluster_stage_would_fail_on_or_delete_is_caught() {
    assert_caught(
        "terraform/cluster/namespaces.tf",
        "n if n == \"reviewservice\"]",
        "n if n == \"reviews\"]",
        "namespace reviewservice: 1 import blocks to kubernetes_namespace_v1.reviewservice",
    );
    assert_caught(
        "terraform/cluster/namespaces.tf",
        "  from = kubernetes_namespace_v1.cartservice\n\n  lifecycle {\n    destroy = false",
        "  from = kubernetes_namespace_v1.cartservice\n\n  lifecycle {\n    destroy = true",
        "namespace cartservice: the cluster stage would delete it",
    );
    assert_caught(
        "terraform/cluster/namespaces.tf",
        "from = kubernetes_namespace_v1.cartservice",
        "from = kubernetes_namespace_v1.reviewservice",
        "a removed block for kubernetes_namespace_v1.reviewservice, which the stage still declares",
    );
}

/// Prometheus without a volume, or with one of a class nothing makes, or filling it.
#[test]
fn a_prometheus_without_its_volume_is_caught() {
    assert_caught(
        "terraform/cluster/addons.tf.json",
        "\"name\": \"platc-monitoring\"",
        "\"name\": \"platc-monitor\"",
        "no StorageClass platc-monitoring in the cluster stage",
    );
    assert_caught(
        "helm/addons/kube-prometheus-stack.values.yaml",
        "retentionSize: \"40GB\"",
        "retentionSize: \"60GB\"",
        "does not keep Prometheus below its volume",
    );
    assert_caught(
        "terraform/cluster/addons.tf.json",
        ",\\\"storageSpec\\\"",
        ",\\\"storageSpecs\\\"",
        "helm_release.kube_prometheus_stack: Prometheus has no volume",
    );
}
