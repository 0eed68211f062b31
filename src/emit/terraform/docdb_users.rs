//! `cluster/docdbs.tf.json`: in each `DocumentDB` cluster, a user of its `$external` database
//! per role of a service that uses it (`MONGODB-AWS`), allowed to read and write the cluster's
//! database (named after the cluster, the path of `STORE_DOCDB_URI`).
//!
//! No maintained Terraform provider creates `MONGODB-AWS` users (the `MongoDB` providers'
//! user resources require a password), so a `terraform_data` per cluster runs `mongosh`
//! (which the runner installs, see `runner.rs`) in a `local-exec` provisioner. It connects as
//! the master user, whose password Secrets Manager keeps: read through an *ephemeral* resource
//! (Terraform 1.10+ admits ephemeral values in provisioner blocks), so it is in no state or
//! plan file, and handed to `mongosh` in its environment, never on a command line. TLS is
//! verified against the Amazon RDS CA bundle. The script reconciles: it creates each missing
//! user, sets each user's roles, and drops the `$external` users of no service, so a service
//! that stops using the cluster loses its access, the last one too: every cluster has its
//! resource, with no users when no service uses it. The resource is replaced (and the script
//! run again) when the cluster's endpoint or its list of roles changes.

use serde_json::{Value, json};

use crate::emit::terraform::docdbs;
use crate::emit::terraform::runner::DOCDB_CA_FILE;
use crate::emit::terraform::{Context, Module, ident};
use crate::model::aws::DOCDB_PORT;

/// The `mongosh` script: every input comes from the environment, so no value is ever quoted
/// into it or into the shell command.
const SCRIPT: &str = r"const master = JSON.parse(process.env.DOCDB_MASTER);
const uri = 'mongodb://' + encodeURIComponent(master.username) + ':' + encodeURIComponent(master.password)
  + '@' + process.env.DOCDB_HOST + ':' + process.env.DOCDB_PORT
  + '/?tls=true&tlsCAFile=' + encodeURIComponent(process.env.DOCDB_CA_FILE)
  + '&replicaSet=rs0&readPreference=primary&retryWrites=false&authSource=admin';
const external = new Mongo(uri).getDB('$external');
const wanted = JSON.parse(process.env.DOCDB_USERS);
const roles = [{ role: 'readWrite', db: process.env.DOCDB_DATABASE }];
const existing = (external.runCommand({ usersInfo: 1 }).users || [])
  .filter((u) => u.db === '$external')
  .map((u) => u.user);
for (const user of wanted) {
  if (existing.includes(user)) {
    external.updateUser(user, { roles });
    print('updated ' + user);
  } else {
    external.createUser({ user, mechanisms: ['MONGODB-AWS'], roles });
    print('created ' + user);
  }
}
for (const user of existing) {
  if (!wanted.includes(user)) {
    external.dropUser(user);
    print('dropped ' + user);
  }
}
";

/// The shell command of the provisioner: the script from the environment, no rc file.
const COMMAND: &str = "mongosh --nodb --quiet --norc --eval \"$DOCDB_SCRIPT\"";

fn output(name: &str) -> String {
    format!("${{data.terraform_remote_state.aws.outputs.{name}}}")
}

/// Whether the cluster stage makes `DocumentDB` users (and so reads with the AWS provider).
pub fn wanted(cx: &Context) -> bool {
    !docdbs::with_users(cx).is_empty()
}

pub fn module(cx: &Context) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cx.aws.span));
    let clusters = docdbs::with_users(cx);
    if clusters.is_empty() {
        return m;
    }
    let mut secrets = serde_json::Map::new();
    for docdb in clusters {
        let id = ident(&docdb.name.value);
        secrets.insert(
            format!("docdb_{id}"),
            json!({"secret_id": output(&format!("docdb_{id}_master_secret"))}),
        );
        let host = output(&format!("docdb_{id}_endpoint"));
        let users = format!("data.terraform_remote_state.aws.outputs.docdb_{id}_users");
        m.resource(
            "terraform_data",
            &format!("docdb_{id}_users"),
            json!({
                "triggers_replace": {
                    "host": host,
                    "users": format!("${{{users}}}"),
                },
                "provisioner": [{
                    "local-exec": {
                        "command": COMMAND,
                        "environment": {
                            "DOCDB_HOST": host,
                            "DOCDB_PORT": DOCDB_PORT.to_string(),
                            "DOCDB_DATABASE": docdb.name.value,
                            "DOCDB_USERS": format!("${{jsonencode({users})}}"),
                            "DOCDB_CA_FILE": DOCDB_CA_FILE,
                            "DOCDB_MASTER": format!(
                                "${{ephemeral.aws_secretsmanager_secret_version.docdb_{id}.secret_string}}"
                            ),
                            "DOCDB_SCRIPT": SCRIPT,
                        },
                    },
                }],
            }),
        );
    }
    m.block(
        "ephemeral",
        json!({"aws_secretsmanager_secret_version": Value::Object(secrets)}),
    );
    m
}
