//! `caches.tf.json`: an `ElastiCache` replication group per `cache` (Valkey or Redis OSS,
//! cluster mode off).
//!
//! Each in a subnet group of the private subnets, behind a security group that admits only the
//! cluster's nodes (and so its pods) on port 6379; encrypted at rest with the platform's data
//! key and in transit (TLS required); a primary and at least one replica spread over the zones,
//! with automatic failover; daily snapshots kept a week.
//!
//! No password exists: clients authenticate with IAM. The cache's user group holds an IAM user
//! whose id and name are the replication group's id (IAM authentication requires id and name
//! to be equal), which the services that `uses` the cache may `elasticache:Connect` as, and the
//! `default` user every user group must hold, switched off (`off -@all`): a client that does
//! not authenticate can run no command. Both users are of the `redis` engine, which a Valkey
//! replication group accepts as well.

use serde_json::json;

use crate::emit::terraform::cluster::cluster_ref;
use crate::emit::terraform::{Context, Module, ident, r};
use crate::model::aws::{CACHE_PORT, Cache, cache_id};

pub fn module(cx: &Context) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cx.aws.span));
    for cache in &cx.aws.caches {
        replication_group(cx, &mut m, cache);
    }
    m
}

fn replication_group(cx: &Context, m: &mut Module, cache: &Cache) {
    let id = ident(&cache.name.value);
    let name = cache_id(cx.platform, &cache.name.value);
    let what = &cache.name.value;
    m.resource(
        "aws_elasticache_subnet_group",
        &id,
        json!({
            "name": name,
            "description": format!("Private subnets of the {what} cache"),
            "subnet_ids": crate::emit::terraform::network::private_subnet_ids(cx),
        }),
    );
    m.resource(
        "aws_security_group",
        &format!("cache_{id}"),
        json!({
            "name": format!("{name}-cache"),
            "description": format!("The {what} cache: reachable from the cluster nodes only"),
            "vpc_id": r("aws_vpc.main.id"),
            "tags": {"Name": format!("{name}-cache")},
        }),
    );
    if let Some(cluster) = cx.cluster {
        m.resource(
            "aws_vpc_security_group_ingress_rule",
            &format!("cache_{id}_from_nodes"),
            json!({
                "security_group_id": r(&format!("aws_security_group.cache_{id}.id")),
                "description": format!("{} from the cluster nodes", cache.engine.value.as_str()),
                "ip_protocol": "tcp",
                "from_port": CACHE_PORT,
                "to_port": CACHE_PORT,
                "referenced_security_group_id": r(&format!(
                    "{}.vpc_config[0].cluster_security_group_id", cluster_ref(cluster)
                )),
            }),
        );
    }
    m.resource(
        "aws_elasticache_user",
        &format!("{id}_default"),
        json!({
            "user_id": format!("{name}-default"),
            "user_name": "default",
            "engine": "redis",
            "access_string": "off -@all",
            "authentication_mode": {"type": "no-password-required"},
        }),
    );
    m.resource(
        "aws_elasticache_user",
        &id,
        json!({
            "user_id": name,
            "user_name": name,
            "engine": "redis",
            "access_string": "on ~* +@all",
            "authentication_mode": {"type": "iam"},
        }),
    );
    m.resource(
        "aws_elasticache_user_group",
        &id,
        json!({
            "user_group_id": name,
            "engine": "redis",
            "user_ids": [
                r(&format!("aws_elasticache_user.{id}_default.user_id")),
                r(&format!("aws_elasticache_user.{id}.user_id")),
            ],
        }),
    );
    m.resource(
        "aws_elasticache_replication_group",
        &id,
        json!({
            "replication_group_id": name,
            "description": format!("The {what} cache"),
            "engine": cache.engine.value.as_str(),
            "engine_version": cache.version.value,
            "node_type": cache.node_type.value.to_string(),
            "num_cache_clusters": cache.nodes.value,
            "port": CACHE_PORT,
            "subnet_group_name": r(&format!("aws_elasticache_subnet_group.{id}.name")),
            "security_group_ids": [r(&format!("aws_security_group.cache_{id}.id"))],
            "at_rest_encryption_enabled": true,
            "kms_key_id": r("aws_kms_key.data.arn"),
            "transit_encryption_enabled": true,
            "transit_encryption_mode": "required",
            "user_group_ids": [r(&format!("aws_elasticache_user_group.{id}.user_group_id"))],
            "automatic_failover_enabled": true,
            "multi_az_enabled": true,
            "auto_minor_version_upgrade": true,
            "snapshot_retention_limit": 7,
            "final_snapshot_identifier": format!("{name}-final"),
        }),
    );
}
