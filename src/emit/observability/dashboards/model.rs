//! The dashboard document Grafana 12.1 reads: the classic dashboard JSON (`schemaVersion` 41,
//! the version Grafana 12.1 migrates every dashboard to), typed where platc sets the fields,
//! free JSON only where a panel plugin owns them (`options`, a field's `custom`, a
//! transformation's options).
//!
//! Panels are laid out by `Grid`: left to right in rows of 24 columns, so no two overlap and
//! none leaves the grid, and numbered in the order they are placed, so every id is unique.

use serde::Serialize;
use serde_json::Value;

use crate::model::addons::PROMETHEUS_DATASOURCE_UID;

/// The dashboard schema version of Grafana 12.1 (kube-prometheus-stack 77.6.2 deploys 12.1.1).
pub const SCHEMA_VERSION: u32 = 41;
/// The width of Grafana's grid, in columns.
pub const GRID_COLUMNS: u32 = 24;
/// The name of the datasource variable every panel reads from.
pub const DATASOURCE_VARIABLE: &str = "datasource";

/// One dashboard. Here and in every struct below, fields are declared in the order of their
/// names in JSON: dashboards are encoded as declared (`encode::json_in_field_order`), and
/// Grafana's JSON has sorted keys.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub annotations: Annotations,
    pub description: String,
    /// Provisioned from a `ConfigMap`: an edit in the UI would be lost on the next sync.
    pub editable: bool,
    /// 1: a crosshair shared by every panel.
    pub graph_tooltip: u8,
    pub links: Vec<Link>,
    pub panels: Vec<Panel>,
    pub refresh: &'static str,
    pub schema_version: u32,
    pub tags: Vec<String>,
    pub templating: Templating,
    pub time: TimeRange,
    pub timezone: &'static str,
    pub title: String,
    pub uid: String,
}

impl Dashboard {
    /// A dashboard with the datasource variable, Grafana's built-in annotations, and `links`.
    pub fn new(uid: String, title: String, description: String, tags: Vec<String>) -> Self {
        Self {
            uid,
            title,
            description,
            tags,
            timezone: "browser",
            editable: false,
            graph_tooltip: 1,
            time: TimeRange {
                from: "now-6h",
                to: "now",
            },
            refresh: "1m",
            schema_version: SCHEMA_VERSION,
            links: Vec::new(),
            templating: Templating {
                list: vec![Variable::datasource()],
            },
            annotations: Annotations {
                list: vec![Annotation::built_in()],
            },
            panels: Vec::new(),
        }
    }
}

#[derive(Serialize)]
pub struct TimeRange {
    pub from: &'static str,
    pub to: &'static str,
}

#[derive(Serialize)]
pub struct Templating {
    pub list: Vec<Variable>,
}

/// A template variable.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<VariableOption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datasource: Option<DataSource>,
    /// 0: shown with its label; 2: hidden.
    pub hide: u8,
    pub include_all: bool,
    pub label: &'static str,
    pub multi: bool,
    pub name: &'static str,
    pub query: String,
    /// 1: read when the dashboard loads; 2: again when the time range changes.
    pub refresh: u8,
    pub regex: &'static str,
    /// 1: ascending, alphabetically.
    pub sort: u8,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl Variable {
    /// `$datasource`: any Prometheus datasource, the stack's own by default.
    pub fn datasource() -> Self {
        Self {
            kind: "datasource",
            name: DATASOURCE_VARIABLE,
            label: "Data source",
            query: "prometheus".into(),
            datasource: None,
            current: Some(VariableOption {
                text: "Prometheus".into(),
                value: PROMETHEUS_DATASOURCE_UID.into(),
            }),
            hide: 0,
            refresh: 1,
            include_all: false,
            multi: false,
            regex: "",
            sort: 0,
        }
    }

    /// A constant: `value`, hidden, written once and read by every query that names it.
    pub fn constant(name: &'static str, label: &'static str, value: String) -> Self {
        Self {
            kind: "constant",
            name,
            label,
            query: value.clone(),
            datasource: None,
            current: Some(VariableOption {
                text: value.clone(),
                value,
            }),
            hide: 2,
            refresh: 0,
            include_all: false,
            multi: false,
            regex: "",
            sort: 0,
        }
    }

    /// A variable of the label values a query returns, any number of them (all by default).
    pub fn values(name: &'static str, label: &'static str, query: String) -> Self {
        Self {
            kind: "query",
            name,
            label,
            query,
            datasource: Some(DataSource::prometheus()),
            current: Some(VariableOption {
                text: "All".into(),
                value: "$__all".into(),
            }),
            hide: 0,
            refresh: 2,
            include_all: true,
            multi: true,
            regex: "",
            sort: 1,
        }
    }
}

#[derive(Serialize)]
pub struct VariableOption {
    pub text: String,
    pub value: String,
}

#[derive(Serialize)]
pub struct Annotations {
    pub list: Vec<Annotation>,
}

/// Grafana's own annotations and alerts, which every dashboard has.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotation {
    pub built_in: u8,
    pub datasource: DataSource,
    pub enable: bool,
    pub hide: bool,
    pub icon_color: &'static str,
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl Annotation {
    fn built_in() -> Self {
        Self {
            built_in: 1,
            datasource: DataSource {
                kind: "grafana",
                uid: "-- Grafana --".into(),
            },
            enable: true,
            hide: true,
            icon_color: "rgba(0, 211, 255, 1)",
            name: "Annotations & Alerts",
            kind: "dashboard",
        }
    }
}

/// A datasource reference.
#[derive(Serialize)]
pub struct DataSource {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub uid: String,
}

impl DataSource {
    /// The Prometheus datasource the `$datasource` variable names.
    pub fn prometheus() -> Self {
        Self {
            kind: "prometheus",
            uid: format!("${{{DATASOURCE_VARIABLE}}}"),
        }
    }
}

/// A link: in a dashboard's header, or on a table's cells (Grafana reads `title`, `url` and
/// `targetBlank` of a data link; the dashboard schema asks every link for all fields).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub as_dropdown: bool,
    pub icon: &'static str,
    pub include_vars: bool,
    pub keep_time: bool,
    pub tags: Vec<String>,
    pub target_blank: bool,
    pub title: String,
    pub tooltip: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
}

impl Link {
    /// A link to the dashboard `uid`, keeping the time range and the datasource.
    pub fn dashboard(title: &str, uid: &str) -> Self {
        Self {
            title: title.to_owned(),
            kind: "link",
            icon: "dashboard",
            tooltip: title.to_owned(),
            url: format!("/d/{uid}"),
            tags: Vec::new(),
            as_dropdown: false,
            target_blank: false,
            include_vars: true,
            keep_time: true,
        }
    }

    /// A drop-down of every dashboard with `tag`.
    pub fn tagged(title: &str, tag: &str) -> Self {
        Self {
            title: title.to_owned(),
            kind: "dashboards",
            icon: "external link",
            tooltip: String::new(),
            url: String::new(),
            tags: vec![tag.to_owned()],
            as_dropdown: true,
            target_blank: false,
            include_vars: true,
            keep_time: true,
        }
    }

    /// A data link whose URL Grafana fills from the clicked row (`${__data.fields.x}`).
    pub fn data(title: &str, url: String) -> Self {
        Self {
            title: title.to_owned(),
            kind: "link",
            icon: "dashboard",
            tooltip: title.to_owned(),
            url,
            tags: Vec::new(),
            as_dropdown: false,
            target_blank: false,
            include_vars: false,
            keep_time: false,
        }
    }
}

/// A panel's place on the grid.
#[derive(Clone, Copy, Serialize)]
pub struct GridPos {
    pub h: u32,
    pub w: u32,
    pub x: u32,
    pub y: u32,
}

/// One `PromQL` query of a panel.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub expr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'static str>,
    /// A table's query: the latest value only, as a table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instant: Option<bool>,
    pub legend_format: String,
    /// A graph's query: every point of the time range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<bool>,
    pub ref_id: String,
}

/// What names a query's series in a legend.
pub enum Legend {
    /// This text.
    Text(String),
    /// The value of this label. Written as a display name (`${__field.labels.pod}`), not as
    /// Prometheus's legend template (`{{pod}}`): no dashboard holds `{{`, so its `ConfigMap`
    /// is a Helm template with nothing to escape, and stays YAML every tool reads.
    Label(&'static str),
}

/// A query: `expr`, and what names its series.
pub struct Query {
    pub expr: String,
    pub legend: Legend,
}

impl Query {
    pub fn new(expr: impl Into<String>, legend: impl Into<String>) -> Self {
        Self {
            expr: expr.into(),
            legend: Legend::Text(legend.into()),
        }
    }
}

/// A step of a panel's thresholds: from `value` on (`None`: from minus infinity), `color`.
#[derive(Clone, Serialize)]
pub struct Step {
    pub color: &'static str,
    pub value: Option<f64>,
}

#[derive(Serialize)]
pub struct Thresholds {
    pub mode: &'static str,
    pub steps: Vec<Step>,
}

/// How a graph draws its series: lightly filled lines without points, and its thresholds, if
/// any, as dashed lines.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphStyle {
    pub fill_opacity: u8,
    pub show_points: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thresholds_style: Option<LineMode>,
}

/// How thresholds are drawn on a graph.
#[derive(Serialize)]
pub struct LineMode {
    pub mode: &'static str,
}

/// A panel's options: a graph's tooltip, or a panel kind's own.
#[derive(Serialize)]
#[serde(untagged)]
pub enum PanelOptions {
    Graph { tooltip: Tooltip },
    Other(Value),
}

/// A graph's tooltip.
#[derive(Serialize)]
pub struct Tooltip {
    pub mode: &'static str,
    pub sort: &'static str,
}

/// What applies to every field of a panel.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDefaults {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<GraphStyle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
    pub unit: &'static str,
}

/// What applies to the fields one matcher selects.
#[derive(Serialize)]
pub struct Override {
    pub matcher: Matcher,
    pub properties: Vec<Property>,
}

#[derive(Serialize)]
pub struct Matcher {
    pub id: &'static str,
    pub options: String,
}

#[derive(Serialize)]
pub struct Property {
    pub id: &'static str,
    pub value: Value,
}

impl Override {
    /// The properties of the field (or column) named `name`.
    pub fn by_name(name: &str, properties: Vec<(&'static str, Value)>) -> Self {
        Self {
            matcher: Matcher {
                id: "byName",
                options: name.to_owned(),
            },
            properties: properties
                .into_iter()
                .map(|(id, value)| Property { id, value })
                .collect(),
        }
    }
}

#[derive(Serialize)]
pub struct FieldConfig {
    pub defaults: FieldDefaults,
    pub overrides: Vec<Override>,
}

/// A transformation of a panel's query results.
#[derive(Serialize)]
pub struct Transformation {
    pub id: &'static str,
    pub options: Value,
}

/// A panel, or a row (`type: row`, which has `collapsed` and `panels` and no queries).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Panel {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collapsed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datasource: Option<DataSource>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_config: Option<FieldConfig>,
    pub grid_pos: GridPos,
    pub id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<PanelOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panels: Option<Vec<Panel>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    pub title: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transformations: Vec<Transformation>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// How a panel shows its data, and how big it is on the grid.
pub struct Visual {
    pub kind: &'static str,
    pub w: u32,
    pub h: u32,
}

/// A time series graph, half the grid wide.
pub const GRAPH: Visual = Visual {
    kind: "timeseries",
    w: 12,
    h: 8,
};
/// A graph a third of the grid wide.
pub const THIRD_GRAPH: Visual = Visual {
    kind: "timeseries",
    w: 8,
    h: 8,
};
/// One number, a sixth of the grid wide.
pub const STAT: Visual = Visual {
    kind: "stat",
    w: 4,
    h: 4,
};

/// A panel before it is placed: what it shows and how.
pub struct Spec {
    pub visual: Visual,
    pub title: String,
    pub description: String,
    pub queries: Vec<Query>,
    pub unit: &'static str,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub decimals: Option<u8>,
    pub steps: Vec<Step>,
    /// Draw the thresholds as dashed lines (graphs).
    pub threshold_lines: bool,
    /// Instant queries as tables, for a table panel.
    pub table: bool,
    pub links: Vec<Link>,
    pub mappings: Vec<Value>,
    pub overrides: Vec<Override>,
    pub transformations: Vec<Transformation>,
    pub options: Option<Value>,
}

impl Spec {
    pub fn new(visual: Visual, title: impl Into<String>, unit: &'static str) -> Self {
        Self {
            visual,
            title: title.into(),
            description: String::new(),
            queries: Vec::new(),
            unit,
            min: None,
            max: None,
            decimals: None,
            steps: vec![Step {
                value: None,
                color: "green",
            }],
            threshold_lines: false,
            table: false,
            links: Vec::new(),
            mappings: Vec::new(),
            overrides: Vec::new(),
            transformations: Vec::new(),
            options: None,
        }
    }

    #[must_use]
    pub fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// A query whose series the legend names `legend`.
    #[must_use]
    pub fn query(mut self, expr: impl Into<String>, legend: impl Into<String>) -> Self {
        self.queries.push(Query::new(expr, legend));
        self
    }

    /// A query with a series per value of `label`, which the legend names them by.
    #[must_use]
    pub fn by(mut self, expr: impl Into<String>, label: &'static str) -> Self {
        self.queries.push(Query {
            expr: expr.into(),
            legend: Legend::Label(label),
        });
        self
    }

    #[must_use]
    pub fn min(mut self, min: f64) -> Self {
        self.min = Some(min);
        self
    }

    #[must_use]
    pub fn max(mut self, max: f64) -> Self {
        self.max = Some(max);
        self
    }

    /// Thresholds above the base (green), drawn as lines on a graph.
    #[must_use]
    pub fn thresholds(mut self, steps: Vec<Step>) -> Self {
        self.steps.extend(steps);
        self.threshold_lines = true;
        self
    }

    /// The field options; what Grafana defaults to is left out.
    fn field_config(&mut self) -> FieldConfig {
        let graph = self.visual.kind == "timeseries";
        let custom = graph.then(|| GraphStyle {
            fill_opacity: 10,
            show_points: "never",
            thresholds_style: self.threshold_lines.then_some(LineMode { mode: "dashed" }),
        });
        // A graph draws its thresholds only as lines; a number or a cell is coloured by them
        // (Grafana's default turns red at 80).
        let thresholds = (!graph || self.threshold_lines).then(|| Thresholds {
            mode: "absolute",
            steps: self.steps.clone(),
        });
        FieldConfig {
            defaults: FieldDefaults {
                unit: self.unit,
                min: self.min,
                max: self.max,
                decimals: self.decimals,
                thresholds,
                custom,
                links: std::mem::take(&mut self.links),
                mappings: std::mem::take(&mut self.mappings),
            },
            overrides: std::mem::take(&mut self.overrides),
        }
    }
}

/// Places panels on the grid: left to right, a new line when a panel does not fit, a row
/// header across the whole width.
#[derive(Default)]
pub struct Grid {
    panels: Vec<Panel>,
    next_id: u32,
    x: u32,
    y: u32,
    /// The height of the line being filled.
    line: u32,
}

impl Grid {
    /// Starts a new line under everything placed so far.
    fn break_line(&mut self) {
        self.y += self.line;
        self.x = 0;
        self.line = 0;
    }

    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    /// A row header: the panels after it, until the next one, are its.
    pub fn row(&mut self, title: impl Into<String>) {
        self.break_line();
        let id = self.id();
        self.panels.push(Panel {
            kind: "row",
            id,
            title: title.into(),
            description: String::new(),
            grid_pos: GridPos {
                h: 1,
                w: GRID_COLUMNS,
                x: 0,
                y: self.y,
            },
            datasource: None,
            targets: Vec::new(),
            field_config: None,
            options: None,
            transformations: Vec::new(),
            collapsed: Some(false),
            panels: Some(Vec::new()),
        });
        self.y += 1;
    }

    /// Places a panel after the last one, or at the start of the next line.
    pub fn add(&mut self, mut spec: Spec) {
        let Visual { kind, w, h } = spec.visual;
        if self.x + w > GRID_COLUMNS {
            self.break_line();
        }
        let grid_pos = GridPos {
            h,
            w,
            x: self.x,
            y: self.y,
        };
        self.x += w;
        self.line = self.line.max(h);
        let table = spec.table;
        let mut targets = Vec::new();
        for (i, query) in std::mem::take(&mut spec.queries).into_iter().enumerate() {
            let ref_id = ref_id(i);
            let legend_format = match query.legend {
                Legend::Text(text) => text,
                Legend::Label(label) => {
                    spec.overrides.push(Override {
                        matcher: Matcher {
                            id: "byFrameRefID",
                            options: ref_id.clone(),
                        },
                        properties: vec![Property {
                            id: "displayName",
                            value: Value::String(format!("${{__field.labels.{label}}}")),
                        }],
                    });
                    "__auto".to_owned()
                }
            };
            targets.push(Target {
                ref_id,
                expr: query.expr,
                legend_format,
                range: (!table).then_some(true),
                instant: table.then_some(true),
                format: table.then_some("table"),
            });
        }
        // A graph's tooltip lists every series, largest first; the rest is Grafana's default.
        let options = spec.options.take().map(PanelOptions::Other).or_else(|| {
            (kind == "timeseries").then_some(PanelOptions::Graph {
                tooltip: Tooltip {
                    mode: "multi",
                    sort: "desc",
                },
            })
        });
        let transformations = std::mem::take(&mut spec.transformations);
        let id = self.id();
        self.panels.push(Panel {
            kind,
            id,
            title: std::mem::take(&mut spec.title),
            description: std::mem::take(&mut spec.description),
            grid_pos,
            datasource: Some(DataSource::prometheus()),
            targets,
            options,
            transformations,
            field_config: Some(spec.field_config()),
            collapsed: None,
            panels: None,
        });
    }

    /// Every panel placed, in order.
    pub fn finish(self) -> Vec<Panel> {
        self.panels
    }
}

/// The id of the `i`th query of a panel: `A`, `B`, … `Z`, `AA`, ….
pub fn ref_id(i: usize) -> String {
    let letter = |n: usize| char::from(b'A' + u8::try_from(n % 26).unwrap_or(0));
    if i < 26 {
        letter(i).to_string()
    } else {
        format!("{}{}", letter(i / 26 - 1), letter(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(title: &str) -> Spec {
        Spec::new(GRAPH, title, "short").query("up", "")
    }

    #[test]
    fn panels_fill_lines_and_never_overlap() {
        let mut grid = Grid::default();
        grid.add(graph("a"));
        grid.add(graph("b"));
        grid.add(graph("c"));
        grid.row("r");
        grid.add(Spec::new(STAT, "s", "short").query("up", ""));
        let panels = grid.finish();
        let at: Vec<(u32, u32, u32)> = panels
            .iter()
            .map(|p| (p.id, p.grid_pos.x, p.grid_pos.y))
            .collect();
        assert_eq!(
            at,
            [(1, 0, 0), (2, 12, 0), (3, 0, 8), (4, 0, 16), (5, 0, 17)]
        );
    }

    #[test]
    fn ref_ids_go_past_z() {
        assert_eq!(ref_id(0), "A");
        assert_eq!(ref_id(25), "Z");
        assert_eq!(ref_id(26), "AA");
        assert_eq!(ref_id(27), "AB");
    }
}
