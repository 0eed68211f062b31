//! The service mesh, observability stack and delivery tooling: platform-wide settings.

use crate::model::value::Duration;
use crate::span::{Span, Spanned};

/// The mesh-wide mTLS mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MtlsMode {
    Strict,
    Permissive,
    Disabled,
}

/// `mesh istio mtls=… { gateway … }`.
#[derive(Clone, Debug)]
pub struct Mesh {
    pub span: Span,
    pub mtls: Spanned<MtlsMode>,
    /// Why mTLS is below strict, when it is.
    pub reason: Option<Spanned<String>>,
    pub gateways: Vec<Gateway>,
    pub jwts: Vec<Jwt>,
    /// `egress-gateway`: the meshed services' `calls-external` leave through Istio's egress
    /// gateway.
    pub egress_gateway: Option<Span>,
}

/// `jwt NAME issuer=… jwks=… audiences=…`: an issuer of end-user tokens the ingress gateway
/// checks on the routes that name it (`expose jwt=NAME`).
#[derive(Clone, Debug)]
pub struct Jwt {
    pub span: Span,
    pub name: Spanned<String>,
    pub issuer: Spanned<String>,
    /// Where istiod fetches the issuer's public keys (an `https://` URL).
    pub jwks: Spanned<String>,
    /// The `aud` values a token must carry one of; none: any.
    pub audiences: Vec<Spanned<String>>,
}

/// TLS handling at an ingress gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS terminated at the gateway with the domain's certificate.
    Simple,
    /// Clients present certificates too.
    Mutual,
    /// TLS passed through to the service.
    Passthrough,
    /// Plain HTTP; needs a reason.
    Disabled,
}

/// `gateway NAME host=… tls=…`.
#[derive(Clone, Debug)]
pub struct Gateway {
    pub span: Span,
    pub name: Spanned<String>,
    pub hosts: Vec<Spanned<String>>,
    pub tls: Spanned<TlsMode>,
    /// Why TLS is off, when it is.
    pub reason: Option<Spanned<String>>,
    pub redirect_http: Spanned<bool>,
}

impl Gateway {
    /// Whether the gateway ends TLS itself, and so needs a certificate (from cert-manager).
    pub fn terminates_tls(&self) -> bool {
        matches!(self.tls.value, TlsMode::Simple | TlsMode::Mutual)
    }
}

/// `observability { prometheus; grafana; kiali }`.
#[derive(Clone, Debug, Default)]
pub struct Observability {
    /// The span of the node's name (`observability`); empty without one.
    pub name_span: Span,
    pub prometheus: Option<Prometheus>,
    pub grafana: Option<Grafana>,
    pub kiali: Option<Kiali>,
    pub alerts: Option<Alerts>,
}

/// The Alertmanager receiver of the alerts no receiver gets (the chart's own `Watchdog` and
/// `InfoInhibitor` among them): a name no receiver of `alerts` may take.
pub const NULL_RECEIVER: &str = "null";

/// `alerts { slack … pagerduty … }`: the receivers Alertmanager sends the alerts to.
#[derive(Clone, Debug)]
pub struct Alerts {
    pub span: Span,
    pub receivers: Vec<Receiver>,
}

/// `slack NAME secret=… channel=… severity=…` or `pagerduty NAME secret=… severity=…`.
#[derive(Clone, Debug)]
pub struct Receiver {
    pub name: Spanned<String>,
    pub kind: ReceiverKind,
    /// The `aws { secret }` holding the webhook URL or the integration key.
    pub secret: Spanned<String>,
    /// Slack's channel, when the webhook's own is not the one.
    pub channel: Option<Spanned<String>>,
    /// The least severe alert it gets.
    pub severity: Spanned<AlertSeverity>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiverKind {
    Slack,
    PagerDuty,
}

/// `severity=`: `critical` gets the alerts that page alone; `warning` the tickets too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertSeverity {
    Critical,
    Warning,
}

/// `prometheus retention=… scrape-interval=…`.
#[derive(Clone, Debug)]
pub struct Prometheus {
    pub span: Span,
    pub retention: Spanned<Duration>,
    pub scrape_interval: Spanned<Duration>,
}

/// `grafana`: dashboards per service and for the platform.
#[derive(Clone, Debug)]
pub struct Grafana {
    pub span: Span,
}

/// `kiali`: the mesh console.
#[derive(Clone, Debug)]
pub struct Kiali {
    pub span: Span,
}

/// `delivery { jenkins { … } argocd … }`.
#[derive(Clone, Debug, Default)]
pub struct Delivery {
    pub jenkins: Option<Jenkins>,
    pub argocd: Option<ArgoCd>,
}

/// `jenkins repo=… branch=… path=… deploy=… agent=… { view NAME SERVICE… }`: a pipeline
/// per service and one for the platform, grouped into views.
#[derive(Clone, Debug)]
pub struct Jenkins {
    pub span: Span,
    /// The span of the word `jenkins`.
    pub name_span: Span,
    /// The Git repository holding `platform.kdl` and `out/`; `argocd`'s when unset.
    pub repo: Option<Spanned<String>>,
    /// The branch the jobs build; `argocd`'s revision, else `main`, when unset.
    pub branch: Option<Spanned<String>>,
    /// Where `out/` is in the repository; `argocd`'s path, else `out`, when unset.
    pub path: Option<Spanned<String>>,
    /// Who puts a new version on the cluster; `None`: Argo CD when `argocd` is declared, else
    /// Helm.
    pub deploy: Option<Spanned<Deploy>>,
    /// The label of the agents that run the pipelines; any agent when unset.
    pub agent: Option<Spanned<String>>,
    pub views: Vec<View>,
}

/// `jenkins deploy=…`: how a pipeline deploys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deploy {
    /// `helm upgrade --install` of the service's chart from `out/helm/`.
    Helm,
    /// Argo CD syncs `out/` from Git; the pipeline waits for the service's Application.
    ArgoCd,
}

/// `view NAME SERVICE…`.
#[derive(Clone, Debug)]
pub struct View {
    pub span: Span,
    pub name: Spanned<String>,
    pub services: Vec<Spanned<String>>,
}

/// `argocd repo=… path=… revision=… source=… sync=… prune=… self-heal=…`.
#[derive(Clone, Debug)]
pub struct ArgoCd {
    pub span: Span,
    pub repo: Spanned<String>,
    /// The directory of the generated files in the repository: relative, without `.` or `..`
    /// segments or a trailing `/`.
    pub path: Spanned<String>,
    pub revision: Spanned<String>,
    pub namespace: Spanned<String>,
    pub source: Spanned<ArgoSource>,
    pub sync: Spanned<SyncMode>,
    /// Whether a sync deletes what the platform no longer declares (and deleting an
    /// Application deletes its objects).
    pub prune: Spanned<bool>,
    /// Whether an automated sync reverts changes made on the cluster.
    pub self_heal: Spanned<bool>,
    /// `plugin-image="…"`: the image of the platc sidecar (deploy/argocd/Dockerfile) that the
    /// Argo CD platc installs runs beside its repo-server, for `source=plugin`.
    pub plugin_image: Option<Spanned<String>>,
}

impl ArgoCd {
    /// The repository directory that holds `platform.kdl`, where the plugin runs: the parent of
    /// `path` (`.` for a top-level `path`).
    pub fn plugin_path(&self) -> &str {
        self.path
            .value
            .rsplit_once('/')
            .map_or(".", |(parent, _)| parent)
    }
}

/// What an Argo CD Application reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgoSource {
    /// The files `platc build` wrote under `path`, committed.
    Out,
    /// `platform.kdl` itself, rendered by the platc config management plugin.
    Plugin,
}

/// How the Applications sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// Argo CD syncs each new commit itself.
    Auto,
    /// A person (or a pipeline) starts each sync.
    Manual,
}
