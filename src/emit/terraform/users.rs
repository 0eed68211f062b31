//! `cluster/databases.tf.json`: in each database, a user per service that `uses` it, which logs
//! in with IAM authentication: in `PostgreSQL` `CREATE ROLE <service> LOGIN` with the `rds_iam` role,
//! `CONNECT` on the database and `USAGE`, `CREATE` on its `public` schema; in `MySQL` a user
//! `IDENTIFIED WITH AWSAuthenticationPlugin` that requires TLS, with all privileges on its
//! database.
//!
//! The stage runs inside the VPC (the runner), which the database admits. It connects as the
//! master user, whose password RDS keeps in Secrets Manager: read through an *ephemeral*
//! resource (Terraform 1.10+), so it never lands in a state file. The connection is TLS
//! (`require`), as the database's parameter group enforces.

use serde_json::{Value, json};

use crate::emit::terraform::{Context, Module, ident};
use crate::model::aws::Engine;
use crate::model::service::StoreKind;

/// `(local name, source, version)` of the database providers, when the platform needs them.
pub fn providers(cx: &Context) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut out = Vec::new();
    for engine in [Engine::Postgres, Engine::Mysql] {
        if cx
            .aws
            .databases
            .iter()
            .any(|d| d.engine.value == engine && !users(cx, &d.name.value).is_empty())
        {
            out.push(match engine {
                Engine::Postgres => ("postgresql", "cyrilgdn/postgresql", "~> 1.26.0"),
                Engine::Mysql => ("mysql", "petoju/mysql", "~> 3.0.94"),
            });
        }
    }
    out
}

/// The services that use a database: its users.
fn users<'a>(cx: &'a Context, database: &str) -> Vec<&'a str> {
    cx.platform
        .services
        .iter()
        .filter(|s| {
            s.uses
                .iter()
                .any(|u| u.kind.value == StoreKind::Database && u.name.value == database)
        })
        .map(|s| s.name.value.as_str())
        .collect()
}

fn output(name: &str) -> String {
    format!("${{data.terraform_remote_state.aws.outputs.{name}}}")
}

pub fn module(cx: &Context) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cx.aws.span));
    let mut postgres: Vec<Value> = Vec::new();
    let mut mysql: Vec<Value> = Vec::new();
    let mut secrets = serde_json::Map::new();
    let mut locals = serde_json::Map::new();
    for database in &cx.aws.databases {
        let users = users(cx, &database.name.value);
        if users.is_empty() {
            continue;
        }
        let id = ident(&database.name.value);
        secrets.insert(
            format!("db_{id}"),
            json!({"secret_id": output(&format!("database_{id}_master_secret"))}),
        );
        locals.insert(
            format!("db_{id}_master"),
            json!(format!(
                "${{jsondecode(ephemeral.aws_secretsmanager_secret_version.db_{id}.secret_string)}}"
            )),
        );
        let master = |field: &str| format!("${{local.db_{id}_master.{field}}}");
        let host = output(&format!("database_{id}_address"));
        let db_name = database.db_name();
        let port = database.engine.value.port();
        match database.engine.value {
            Engine::Postgres => {
                postgres.push(json!({
                    "alias": id,
                    "host": host,
                    "port": port,
                    "database": db_name,
                    "username": master("username"),
                    "password": master("password"),
                    "sslmode": "require",
                    // The RDS master user is no superuser.
                    "superuser": false,
                    "connect_timeout": 30,
                }));
                for user in users {
                    let rid = format!("{id}_{}", ident(user));
                    let provider = format!("postgresql.{id}");
                    m.resource(
                        "postgresql_role",
                        &rid,
                        json!({
                            "provider": provider,
                            "name": user,
                            "login": true,
                            "roles": ["rds_iam"],
                        }),
                    );
                    let role = format!("${{postgresql_role.{rid}.name}}");
                    m.resource(
                        "postgresql_grant",
                        &format!("{rid}_database"),
                        json!({
                            "provider": provider,
                            "database": db_name,
                            "role": role,
                            "object_type": "database",
                            "privileges": ["CONNECT", "TEMPORARY"],
                        }),
                    );
                    m.resource(
                        "postgresql_grant",
                        &format!("{rid}_schema"),
                        json!({
                            "provider": provider,
                            "database": db_name,
                            "role": role,
                            "schema": "public",
                            "object_type": "schema",
                            "privileges": ["CREATE", "USAGE"],
                        }),
                    );
                }
            }
            Engine::Mysql => {
                mysql.push(json!({
                    "alias": id,
                    "endpoint": format!("{host}:{port}"),
                    "username": master("username"),
                    "password": master("password"),
                    "tls": "skip-verify",
                }));
                for user in users {
                    let rid = format!("{id}_{}", ident(user));
                    let provider = format!("mysql.{id}");
                    m.resource(
                        "mysql_user",
                        &rid,
                        json!({
                            "provider": provider,
                            "user": user,
                            "host": "%",
                            "auth_plugin": "AWSAuthenticationPlugin",
                            "tls_option": "SSL",
                        }),
                    );
                    m.resource(
                        "mysql_grant",
                        &rid,
                        json!({
                            "provider": provider,
                            "user": format!("${{mysql_user.{rid}.user}}"),
                            "host": "%",
                            "database": db_name,
                            "privileges": ["ALL"],
                        }),
                    );
                }
            }
        }
    }
    if secrets.is_empty() {
        return m;
    }
    m.block(
        "ephemeral",
        json!({"aws_secretsmanager_secret_version": secrets}),
    );
    m.block("locals", Value::Object(locals));
    let mut providers = serde_json::Map::new();
    if !postgres.is_empty() {
        providers.insert("postgresql".into(), Value::Array(postgres));
    }
    if !mysql.is_empty() {
        providers.insert("mysql".into(), Value::Array(mysql));
    }
    m.block("provider", Value::Object(providers));
    m
}
