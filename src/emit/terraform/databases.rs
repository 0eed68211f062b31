//! `databases.tf.json`: an RDS instance per `database`.
//!
//! Each in a subnet group of the private subnets, never publicly accessible, encrypted with the
//! platform's data key, TLS forced by its parameter group, IAM authentication on, the master
//! password generated and kept by AWS Secrets Manager, backups kept, deletion protected (with a
//! final snapshot), logs exported, Performance Insights and enhanced monitoring on, behind a
//! security group that admits only the cluster's nodes on the engine's port.
//!
//! The engine version is the major only: RDS applies minor upgrades itself, and the provider
//! reads a prefix as matching the minor it runs. The services that `uses` a database get its
//! instance address (through `outputs.tf.json` and the cluster stage's `ConfigMap`): IAM
//! authentication tokens are signed for that address, so no name of ours can stand in for it.

use serde_json::{Value, json};

use crate::emit::terraform::cluster::cluster_ref;
use crate::emit::terraform::network::log_group;
use crate::emit::terraform::{Context, Module, ident, lit, policy, r, users};
use crate::model::aws::{Database, Engine, database_identifier, password_secret_name, role_name};

pub fn module(cx: &Context) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cx.aws.span));
    if cx.aws.databases.is_empty() {
        return m;
    }
    // Enhanced monitoring publishes OS metrics through a role of its own.
    let trust = policy::trust(
        &mut m,
        "rds_monitoring_trust",
        &["monitoring.rds.amazonaws.com"],
        &["sts:AssumeRole"],
    );
    policy::role(
        &mut m,
        "rds_monitoring",
        &role_name(cx.platform, "rds-monitoring"),
        "RDS enhanced monitoring",
        &trust,
    );
    policy::attach(
        cx,
        &mut m,
        "rds_monitoring",
        &["service-role/AmazonRDSEnhancedMonitoringRole"],
    );
    for database in &cx.aws.databases {
        instance(cx, &mut m, database);
    }
    m
}

/// The parameter group family of an engine version: `postgres16`, `mysql8.0`.
fn family(database: &Database) -> String {
    // The lowering holds the version to the major: `16`, `8.0`.
    let version = &database.version.value;
    match database.engine.value {
        Engine::Postgres => format!("postgres{version}"),
        Engine::Mysql => format!("mysql{version}"),
    }
}

/// Whether Performance Insights runs on an instance class: not on `MySQL`'s smallest classes.
fn performance_insights(database: &Database) -> bool {
    database.engine.value == Engine::Postgres
        || !matches!(database.class.value.size.as_str(), "micro" | "small")
}

fn instance(cx: &Context, m: &mut Module, database: &Database) {
    let id = ident(&database.name.value);
    let identifier = database_identifier(cx.platform, database);
    let (engine, port, logs, parameters) = match database.engine.value {
        Engine::Postgres => (
            "postgres",
            5432,
            vec!["postgresql", "upgrade"],
            vec![
                ("rds.force_ssl", "1"),
                ("log_statement", "ddl"),
                ("log_min_duration_statement", "1000"),
            ],
        ),
        Engine::Mysql => (
            "mysql",
            3306,
            vec!["audit", "error", "general", "slowquery"],
            vec![("require_secure_transport", "1")],
        ),
    };
    m.resource(
        "aws_db_subnet_group",
        &id,
        json!({
            "name": identifier,
            "description": format!("Private subnets of the {} database", database.name.value),
            "subnet_ids": crate::emit::terraform::network::private_subnet_ids(cx),
        }),
    );
    m.resource(
        "aws_db_parameter_group",
        &id,
        json!({
            "name": identifier,
            "family": family(database),
            "description": format!("TLS and logging for the {} database", database.name.value),
            "parameter": parameters
                .iter()
                .map(|(name, value)| json!({"name": name, "value": value}))
                .collect::<Vec<Value>>(),
        }),
    );
    m.resource(
        "aws_security_group",
        &format!("db_{id}"),
        json!({
            "name": format!("{identifier}-db"),
            "description": format!("The {} database: reachable from the cluster nodes only", database.name.value),
            "vpc_id": r("aws_vpc.main.id"),
            "tags": {"Name": format!("{identifier}-db")},
        }),
    );
    if let Some(cluster) = cx.cluster {
        m.resource(
            "aws_vpc_security_group_ingress_rule",
            &format!("db_{id}_from_nodes"),
            json!({
                "security_group_id": r(&format!("aws_security_group.db_{id}.id")),
                "description": format!("{engine} from the cluster nodes"),
                "ip_protocol": "tcp",
                "from_port": port,
                "to_port": port,
                "referenced_security_group_id": r(&format!(
                    "{}.vpc_config[0].cluster_security_group_id", cluster_ref(cluster)
                )),
            }),
        );
    }
    // The groups RDS exports to, `/aws/rds/instance/<identifier>/<log>`.
    let groups: Vec<String> = logs
        .iter()
        .map(|log| {
            let name = format!("/aws/rds/instance/{identifier}/{log}");
            log_group(m, &format!("db_{id}_{log}"), &name)
        })
        .collect();
    let insights = performance_insights(database);
    let mut body = json!({
        "identifier": identifier,
        "engine": engine,
        "engine_version": database.version.value,
        "instance_class": database.class.value.to_string(),
        "allocated_storage": database.storage_gb.value,
        "max_allocated_storage": database.storage_gb.value.saturating_mul(4).max(database.storage_gb.value),
        "storage_type": "gp3",
        "storage_encrypted": true,
        "kms_key_id": r("aws_kms_key.data.arn"),
        "db_name": database.db_name(),
        "username": "platc_admin",
        "manage_master_user_password": true,
        "master_user_secret_kms_key_id": r("aws_kms_key.data.key_id"),
        "iam_database_authentication_enabled": true,
        "db_subnet_group_name": r(&format!("aws_db_subnet_group.{id}.name")),
        "vpc_security_group_ids": [r(&format!("aws_security_group.db_{id}.id"))],
        "parameter_group_name": r(&format!("aws_db_parameter_group.{id}.name")),
        "publicly_accessible": false,
        "multi_az": database.multi_az.value,
        "backup_retention_period": database.backup_days.value,
        "deletion_protection": true,
        "skip_final_snapshot": false,
        "final_snapshot_identifier": format!("{identifier}-final"),
        "copy_tags_to_snapshot": true,
        "auto_minor_version_upgrade": true,
        "enabled_cloudwatch_logs_exports": logs,
        "monitoring_interval": 60,
        "monitoring_role_arn": r("aws_iam_role.rds_monitoring.arn"),
        "performance_insights_enabled": insights,
        "depends_on": groups,
    });
    if insights {
        body["performance_insights_kms_key_id"] = json!(r("aws_kms_key.data.arn"));
        body["performance_insights_retention_period"] = json!(7);
    }
    m.resource("aws_db_instance", &id, body);
    // The secret of each password user's password, encrypted with the data key. The second
    // stage, which reaches the database, writes its value (write-only, never in state).
    for (user, _) in users::users(cx, &database.name.value)
        .into_iter()
        .filter(|(_, password)| *password)
    {
        m.resource(
            "aws_secretsmanager_secret",
            &users::password_ident(&database.name.value, user),
            json!({
                "name": lit(&password_secret_name(cx.platform, &database.name.value, user)),
                "description": lit(&format!(
                    "The password of the {user} service's user of the {} database",
                    database.name.value
                )),
                "kms_key_id": r("aws_kms_key.data.arn"),
                "recovery_window_in_days": 7,
            }),
        );
    }
}
