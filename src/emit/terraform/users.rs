//! `cluster/databases.tf.json`: in each database, a user per service that `uses` it, which logs
//! in with IAM authentication: in `PostgreSQL` `CREATE ROLE <service> LOGIN` with the `rds_iam` role,
//! `CONNECT` on the database and `USAGE`, `CREATE` on its `public` schema; in `MySQL` a user
//! `IDENTIFIED WITH AWSAuthenticationPlugin` that requires TLS, with all privileges on its
//! database. A service that uses it with `auth=password` gets a user that logs in with a
//! password instead (no `rds_iam`, no `AWSAuthenticationPlugin`, TLS still required): generated
//! by an ephemeral `aws_secretsmanager_random_password`, written into the service's secret
//! (made by the first stage) as a write-only value, read back from that version and given to
//! the user as a write-only `password_wo`, so it is in no state file, no plan and no output.
//!
//! Each database declared has its provider here, whether a service uses it or not: a service
//! that stops using a database (its last user too) has its user dropped by that provider.
//!
//! The stage runs inside the VPC (the runner), which the database admits. It connects as the
//! master user, whose password RDS keeps in Secrets Manager: read through an *ephemeral*
//! resource (Terraform 1.10+), so it never lands in a state file. The connection is TLS
//! (`require`), as the database's parameter group enforces.

use serde_json::{Value, json};

use crate::emit::terraform::{Context, Module, ident};
use crate::model::aws::Engine;
use crate::model::service::StoreKind;

/// `(local name, source, version)` of the database providers, when the platform needs them:
/// for every engine of a database it declares, whether a service uses it or not. A database's
/// provider stays as long as the database: Terraform destroys a user with the provider that
/// made it, so a provider removed with a database's last user would leave that user in the
/// state and fail every plan after ("Provider configuration not present").
pub fn providers(cx: &Context) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut out = Vec::new();
    for engine in [Engine::Postgres, Engine::Mysql] {
        if cx.aws.databases.iter().any(|d| d.engine.value == engine) {
            out.push(match engine {
                Engine::Postgres => ("postgresql", "cyrilgdn/postgresql", "~> 1.26.0"),
                Engine::Mysql => ("mysql", "petoju/mysql", "~> 3.0.94"),
            });
        }
    }
    out
}

/// The services that use a database: its users, each with whether it logs in with a password
/// (`auth=password` on any of its lines), else with IAM authentication.
pub fn users<'a>(cx: &'a Context, database: &str) -> Vec<(&'a str, bool)> {
    cx.platform
        .services
        .iter()
        .filter_map(|s| {
            let mut lines = s
                .uses
                .iter()
                .filter(|u| u.kind.value == StoreKind::Database && u.name.value == database)
                .peekable();
            lines.peek()?;
            Some((
                s.name.value.as_str(),
                lines.any(crate::model::service::Use::password_auth),
            ))
        })
        .collect()
}

/// The Terraform name of a password user's secret, `db_<database>_<service>`: the secret in the
/// first stage, its value, the ephemeral password and its reading back in the second.
pub fn password_ident(database: &str, service: &str) -> String {
    format!("db_{}_{}", ident(database), ident(service))
}

/// The first stage's output of the ARN of a password user's secret.
pub fn password_output(database: &str, service: &str) -> String {
    format!("{}_password_secret", password_ident(database, service))
}

/// A password user's password: generated once (an ephemeral `aws_secretsmanager_random_password`,
/// letters and digits, never in state), written into the user's secret (made by the first
/// stage) as a write-only value, and read back from the version written, so the database
/// user always gets the password the secret holds. Returns that reading's expression.
fn password_user(
    m: &mut Module,
    passwords: &mut serde_json::Map<String, Value>,
    secrets: &mut serde_json::Map<String, Value>,
    database: &str,
    service: &str,
) -> String {
    let pid = password_ident(database, service);
    passwords.insert(
        pid.clone(),
        json!({
            "password_length": PASSWORD_LENGTH,
            // Letters and digits: safe in a URI, a JDBC URL, an env var and SQL.
            "exclude_punctuation": true,
        }),
    );
    let secret = output(&password_output(database, service));
    m.resource(
        "aws_secretsmanager_secret_version",
        &pid,
        json!({
            "secret_id": secret,
            "secret_string_wo": format!("${{ephemeral.aws_secretsmanager_random_password.{pid}.random_password}}"),
            // Written once: a new password is a new version (bump it to rotate).
            "secret_string_wo_version": 1,
        }),
    );
    // Read back by the version just written: deferred to the apply that writes it.
    secrets.insert(
        format!("{pid}_password"),
        json!({
            "secret_id": secret,
            "version_id": format!("${{aws_secretsmanager_secret_version.{pid}.version_id}}"),
        }),
    );
    format!("${{ephemeral.aws_secretsmanager_secret_version.{pid}_password.secret_string}}")
}

/// The length of a generated password: 40 letters and digits, about 238 bits.
const PASSWORD_LENGTH: u32 = 40;

fn output(name: &str) -> String {
    format!("${{data.terraform_remote_state.aws.outputs.{name}}}")
}

pub fn module(cx: &Context) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cx.aws.span));
    let mut postgres: Vec<Value> = Vec::new();
    let mut mysql: Vec<Value> = Vec::new();
    let mut secrets = serde_json::Map::new();
    let mut passwords = serde_json::Map::new();
    let mut locals = serde_json::Map::new();
    // Every database's master secret and provider, used or not (`providers`).
    for database in &cx.aws.databases {
        let users = users(cx, &database.name.value);
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
                for (user, password) in users {
                    let rid = format!("{id}_{}", ident(user));
                    let provider = format!("postgresql.{id}");
                    let mut role = json!({
                        "provider": provider,
                        "name": user,
                        "login": true,
                        "roles": ["rds_iam"],
                    });
                    if password {
                        // `rds_iam` would refuse the password: the role logs in with it alone.
                        role["roles"] = json!([]);
                        role["password_wo"] = json!(password_user(
                            &mut m,
                            &mut passwords,
                            &mut secrets,
                            &database.name.value,
                            user,
                        ));
                        // A string in this provider's schema.
                        role["password_wo_version"] = json!("1");
                    }
                    m.resource("postgresql_role", &rid, role);
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
                for (user, password) in users {
                    let rid = format!("{id}_{}", ident(user));
                    let provider = format!("mysql.{id}");
                    let mut body = json!({
                        "provider": provider,
                        "user": user,
                        "host": "%",
                        "auth_plugin": "AWSAuthenticationPlugin",
                        "tls_option": "SSL",
                    });
                    if password {
                        // The server's default plugin, with the password, TLS still required.
                        body.as_object_mut().map(|b| b.remove("auth_plugin"));
                        body["password_wo"] = json!(password_user(
                            &mut m,
                            &mut passwords,
                            &mut secrets,
                            &database.name.value,
                            user,
                        ));
                        // A number in this provider's schema.
                        body["password_wo_version"] = json!(1);
                    }
                    m.resource("mysql_user", &rid, body);
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
    let mut ephemeral = serde_json::Map::new();
    if !passwords.is_empty() {
        ephemeral.insert(
            "aws_secretsmanager_random_password".into(),
            Value::Object(passwords),
        );
    }
    ephemeral.insert(
        "aws_secretsmanager_secret_version".into(),
        Value::Object(secrets),
    );
    m.block("ephemeral", Value::Object(ephemeral));
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
