//! Jenkins: a declarative pipeline per service (`jenkins/services/<service>/Jenkinsfile`), one
//! for the platform-wide objects (`jenkins/platform/Jenkinsfile`), and the Job DSL seed script
//! that creates their jobs and the list views `jenkins { view … }` declares
//! (`jenkins/seed.groovy`).
//!
//! A derived target: the platform pipeline applies the files the other targets made for the
//! platform as a whole, so it reads the set. The text comes from the minijinja templates in
//! `src/templates/jenkins/`; every hole of a template is written as a single-quoted Groovy
//! string (`groovy::literal`), so no value of `platform.kdl` can end a string, interpolate or
//! inject Groovy; shell steps read values from the pipeline's `environment`, never from the
//! script text.
//!
//! A pipeline deploys one of two ways (`jenkins deploy=`): with Helm, `helm upgrade --install`
//! of the service's chart in `out/helm/`; or, when Argo CD syncs `out/` (`argocd`), by waiting
//! until the service's Application has synced the commit and is healthy. A canary service then
//! waits on its Rollout's analysis, and asks a person before each step that has no interval.

mod groovy;

use serde::Serialize;

use crate::emit::conventions::{self, cmp};
use crate::encode::generated;
use crate::model::mesh::{Deploy, Jenkins, SyncMode};
use crate::model::service::Service;
use crate::model::{Checked, Platform};
use crate::output::{Item, Output, Owner, on_the_edge};

/// How often the jobs poll the repository (Jenkins cron syntax, `H` spreading the jobs).
const POLL: &str = "H/5 * * * *";
/// The minutes a pipeline may take besides a canary's steps: tests, the image, the deploy.
const BASE_MINUTES: u64 = 30;
/// The minutes a pipeline waits for Argo CD to sync the commit and report the service healthy.
const SYNC_MINUTES: u64 = 15;

/// Adds the pipelines and the seed script of a platform with `jenkins`.
pub fn emit(platform: &Checked, out: &mut Output) {
    let Some(jenkins) = &platform.delivery.jenkins else {
        return;
    };
    let tree = tree_path(platform, jenkins);
    let deploy = deploy(platform, jenkins);
    // The platform pipeline applies the platform's own objects, in apply order: those a
    // rebuild did not make again too (`Output::keep`).
    let summaries = out.wants_shared().then(|| out.summaries());
    let mut edge = false;
    let mut shared: Vec<(u8, &str)> = summaries
        .iter()
        .flat_map(crate::output::Summaries::iter)
        .filter(|item| matches!(item.owner(), Owner::Platform | Owner::Namespace(_)))
        .filter_map(|item| {
            let id = item.id()?;
            edge |= on_the_edge(item.owner(), id.api_version);
            Some((id.apply_rank(), item.path()))
        })
        .collect();
    shared.sort_unstable();
    let files: Vec<String> = shared
        .iter()
        .map(|(_, path)| format!("{tree}/{path}"))
        .collect();
    let services = out.services(platform);
    let mut items = Vec::with_capacity(services.len() + 2);
    for service in services {
        items.push(service_pipeline(platform, jenkins, service, &tree, deploy));
    }
    if out.wants_shared() {
        items.push(platform_pipeline(
            platform, jenkins, &tree, deploy, files, edge,
        ));
        items.push(seed(platform, jenkins, &tree));
    }
    for item in items {
        out.push(item);
    }
}

/// Where the built tree is in the repository: under `path` (or `argocd`'s, else `out`).
fn tree_path(platform: &Platform, jenkins: &Jenkins) -> String {
    let base = jenkins
        .path
        .as_ref()
        .or_else(|| platform.delivery.argocd.as_ref().map(|a| &a.path))
        .map_or("out", |p| p.value.as_str());
    conventions::tree_in_repository(platform, base)
}

/// Who deploys: what `deploy=` says, else Argo CD when it syncs the platform.
fn deploy(platform: &Platform, jenkins: &Jenkins) -> Deploy {
    match (&jenkins.deploy, &platform.delivery.argocd) {
        (Some(deploy), _) => deploy.value,
        (None, Some(_)) => Deploy::ArgoCd,
        (None, None) => Deploy::Helm,
    }
}

/// What every pipeline template reads.
#[derive(Serialize)]
struct Common {
    /// The generated-file sentence, made safe for a `//` comment.
    header: String,
    agent: Option<String>,
    deploy: &'static str,
    tree: String,
    application: String,
    /// The root Application (the app of apps), which makes `application`.
    root_application: String,
    /// Argo CD's namespace, where the Applications live; `None` without `argocd`.
    argocd_namespace: Option<String>,
    sync_minutes: u64,
    /// Argo CD syncs only when asked (`argocd sync=manual`): the pipeline asks.
    manual_sync: bool,
    /// A sync deletes what the platform no longer declares (`argocd prune`): the pipeline's
    /// sync prunes as an automated one would.
    prune: bool,
    /// The EKS cluster of the platform (of this environment), which the pipeline's kubectl and
    /// helm reach through a kubeconfig of the build's own; `None` without one (the agent's).
    cluster: Option<String>,
    /// The platform's AWS region; `None` without `aws`.
    aws_region: Option<String>,
}

fn common(
    platform: &Platform,
    jenkins: &Jenkins,
    tree: &str,
    deploy: Deploy,
    part: &str,
    origin: crate::span::Span,
) -> Common {
    Common {
        header: generated(&platform.origin.path(origin)),
        agent: jenkins.agent.as_ref().map(|a| a.value.clone()),
        deploy: match deploy {
            Deploy::Helm => "helm",
            Deploy::ArgoCd => "argocd",
        },
        tree: tree.to_owned(),
        application: conventions::argocd_application(platform, part),
        root_application: conventions::argocd_root(platform),
        argocd_namespace: platform
            .delivery
            .argocd
            .as_ref()
            .map(|a| a.namespace.value.clone()),
        sync_minutes: SYNC_MINUTES,
        manual_sync: platform
            .delivery
            .argocd
            .as_ref()
            .is_some_and(|a| a.sync.value == SyncMode::Manual),
        prune: platform
            .delivery
            .argocd
            .as_ref()
            .is_some_and(|a| a.prune.value),
        cluster: platform.aws.as_ref().and_then(|aws| {
            let cluster = aws.cluster.as_ref()?;
            Some(crate::model::aws::cluster_name(platform, cluster))
        }),
        aws_region: platform.aws.as_ref().map(|aws| aws.region.value.clone()),
    }
}

/// The tools a pipeline's agent needs, as a sentence's list: `git, helm and kubectl`.
fn tools(tools: &[&str]) -> String {
    match tools.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => tools.concat(),
    }
}

/// The image a service's pipeline builds and pushes.
#[derive(Serialize)]
struct Build {
    context: String,
    dockerfile: String,
    test: Option<String>,
    /// The ECR repository's name and its registry's host, for `aws ecr`.
    repository: String,
    registry: String,
}

/// What a canary service's pipeline waits on.
#[derive(Serialize)]
struct Canary {
    rollout: String,
    /// The tag of the stable image, deployed first where the Rollout does not exist yet (its
    /// admission guard refuses a canary as the first revision).
    stable_tag: Option<String>,
    /// The steps that wait for a person (a pause without an interval).
    manual_steps: usize,
    /// How long the automatic steps and their analysis may take, in minutes.
    minutes: u64,
}

#[derive(Serialize)]
struct ServiceContext {
    #[serde(flatten)]
    common: Common,
    service: String,
    namespace: String,
    chart: String,
    image_repository: String,
    image_tag: Option<String>,
    build: Option<Build>,
    canary: Option<Canary>,
    timeout_minutes: u64,
    /// What the agent needs, for the header.
    tools: String,
}

fn service_pipeline(
    platform: &Checked,
    jenkins: &Jenkins,
    service: &Service,
    tree: &str,
    deploy: Deploy,
) -> Item {
    let name = &service.name.value;
    let image = &service.image;
    let image_repository = if image.ecr {
        platform
            .registry(&image.repository.value)
            .unwrap_or_else(|| image.repository.value.clone())
    } else {
        image.repository.value.clone()
    };
    let canary_image = service.canary_image();
    let deployed = canary_image.as_ref().unwrap_or(image);
    let build = service.build.as_ref().and_then(|build| {
        // ECR is AWS's: no `aws`, no image to push.
        platform.aws.as_ref()?;
        let registry = image_repository.split('/').next()?.to_owned();
        let context = build.context.value.trim_end_matches('/').to_owned();
        Some(Build {
            dockerfile: build
                .dockerfile
                .as_ref()
                .map_or_else(|| format!("{context}/Dockerfile"), |d| d.value.clone()),
            test: build.test.as_ref().map(|t| t.value.clone()),
            repository: crate::model::aws::repository_name(platform, &image.repository.value),
            registry,
            context,
        })
    });
    let canary = service.canary.as_ref().map(|canary| {
        let pauses = canary
            .steps
            .iter()
            .filter(|s| s.value.thousandths < 100_000)
            .count();
        let (manual_steps, automatic) = match (&canary.interval, canary.steps.is_empty()) {
            (_, true) => (1, 0),
            (None, false) => (pauses, 0),
            (Some(interval), false) => (0, pauses as u64 * interval.value.seconds()),
        };
        Canary {
            rollout: name.clone(),
            stable_tag: image
                .digest
                .is_none()
                .then(|| image.tag.as_ref().map(|t| t.value.clone()))
                .flatten(),
            manual_steps,
            minutes: automatic.div_ceil(60) + SYNC_MINUTES,
        }
    });
    let chart = format!("{tree}/helm/{name}");
    let timeout_minutes = BASE_MINUTES
        + canary.as_ref().map_or(0, |c| c.minutes)
        + if canary.as_ref().is_some_and(|c| c.manual_steps > 0) {
            // A person answers each manual step within a day, or the pipeline gives up.
            24 * 60
        } else {
            0
        };
    let common = common(platform, jenkins, tree, deploy, name, service.span);
    let mut needs = vec!["git", "helm", "kubectl"];
    if canary.is_some() {
        needs.push("the Argo Rollouts kubectl plugin");
    }
    if build.is_some() {
        needs.push("docker");
    }
    if build.is_some() || common.cluster.is_some() {
        needs.push("the AWS CLI");
    }
    let context = ServiceContext {
        tools: tools(&needs),
        common,
        service: name.clone(),
        namespace: service.namespace.clone(),
        chart,
        image_repository,
        // A digest pins the image in the chart's `image.repository`: no tag to set.
        image_tag: deployed
            .digest
            .is_none()
            .then(|| deployed.tag.as_ref().map(|t| t.value.clone()))
            .flatten(),
        build,
        canary,
        timeout_minutes,
    };
    Item::text(
        format!("jenkins/services/{name}/Jenkinsfile"),
        Owner::Service(name.clone()),
        service.span,
        groovy::render("service", &context),
    )
}

#[derive(Serialize)]
struct PlatformContext {
    #[serde(flatten)]
    common: Common,
    platform: String,
    files: Vec<String>,
    /// With Argo CD, the Application of the edge (the gateways' certificates and their
    /// issuer), if the platform has one: waited on after the platform's.
    edge_application: Option<String>,
    /// Room for checkout and each wait.
    timeout_minutes: u64,
    /// What the agent needs, for the header.
    tools: String,
}

fn platform_pipeline(
    platform: &Checked,
    jenkins: &Jenkins,
    tree: &str,
    deploy: Deploy,
    files: Vec<String>,
    edge: bool,
) -> Item {
    let edge_application = (edge && deploy == Deploy::ArgoCd)
        .then(|| conventions::argocd_application(platform, cmp::PART_EDGE));
    let common = common(
        platform,
        jenkins,
        tree,
        deploy,
        cmp::PART_PLATFORM,
        jenkins.span,
    );
    let needs = if common.cluster.is_some() {
        tools(&["git", "kubectl", "the AWS CLI"])
    } else {
        tools(&["git", "kubectl"])
    };
    let context = PlatformContext {
        timeout_minutes: BASE_MINUTES
            + if edge_application.is_some() {
                SYNC_MINUTES
            } else {
                0
            },
        edge_application,
        common,
        tools: needs,
        platform: platform.name.value.clone(),
        files,
    };
    Item::text(
        "jenkins/platform/Jenkinsfile".into(),
        Owner::Platform,
        jenkins.span,
        groovy::render("platform", &context),
    )
}

#[derive(Serialize)]
struct Job {
    name: String,
    description: String,
    script: String,
}

#[derive(Serialize)]
struct SeedContext {
    header: String,
    repo: String,
    branch: String,
    poll: &'static str,
    jobs: Vec<Job>,
    views: Vec<ViewContext>,
}

/// A list view: its name and the names of its jobs.
#[derive(Serialize)]
struct ViewContext {
    name: String,
    jobs: Vec<String>,
}

fn seed(platform: &Checked, jenkins: &Jenkins, tree: &str) -> Item {
    let argocd = platform.delivery.argocd.as_ref();
    let repo = jenkins
        .repo
        .as_ref()
        .or(argocd.map(|a| &a.repo))
        .map(|r| r.value.clone())
        .unwrap_or_default();
    let branch = jenkins
        .branch
        .as_ref()
        .or(argocd.map(|a| &a.revision))
        .map_or_else(|| "main".to_owned(), |b| b.value.clone());
    let mut jobs = vec![Job {
        name: conventions::part_name(platform, cmp::PART_PLATFORM),
        description: format!(
            "The platform-wide objects of {} (namespaces, mesh policy, gateways, monitoring). Generated by platc.",
            platform.name.value
        ),
        script: format!("{tree}/jenkins/platform/Jenkinsfile"),
    }];
    for service in &platform.services {
        let name = &service.name.value;
        jobs.push(Job {
            name: conventions::part_name(platform, name),
            description: format!("Build, test and deploy {name}. Generated by platc."),
            script: format!("{tree}/jenkins/services/{name}/Jenkinsfile"),
        });
    }
    let views = jenkins
        .views
        .iter()
        .map(|view| ViewContext {
            name: platform.with_env(&view.name.value),
            jobs: view
                .services
                .iter()
                .map(|s| conventions::part_name(platform, &s.value))
                .collect(),
        })
        .collect();
    let context = SeedContext {
        header: generated(&platform.origin.path(jenkins.span)),
        repo,
        branch,
        poll: POLL,
        jobs,
        views,
    };
    Item::text(
        "jenkins/seed.groovy".into(),
        Owner::Platform,
        jenkins.span,
        groovy::render("seed", &context),
    )
}
