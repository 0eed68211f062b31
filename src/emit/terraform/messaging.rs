//! `messaging.tf.json`: an SQS queue per `queue` and an SNS topic per `topic`.
//!
//! A queue is encrypted with the platform's data key, keeps its messages four days, and moves
//! a message received five times without being deleted to its dead-letter queue (kept 14 days,
//! which only that queue may redrive into). A topic is encrypted with the same key. Both have a
//! resource policy denying any request without TLS. `queue NAME subscribe=TOPIC` subscribes the
//! queue to the topic with raw delivery; the queue's policy admits SNS for that topic alone, and
//! the data key's policy lets SNS encrypt what it delivers. FIFO queues and topics deduplicate
//! by content unless the sender gives a deduplication id.

use serde_json::{Value, json};

use crate::emit::terraform::{Context, Module, ident, policy, r};
use crate::model::aws::{Queue, Topic, dead_letter_queue_name, queue_name, topic_name};

/// The data key's policy statement that lets SNS encrypt the messages it delivers to a queue
/// encrypted with that key.
pub fn sns_delivery_statement() -> Value {
    json!({
        "Sid": "SnsDeliversToQueues",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    })
}

pub fn module(cx: &Context) -> Module {
    let mut m = Module::new(&cx.platform.origin.path(cx.aws.span));
    for topic in &cx.aws.topics {
        self::topic(cx, &mut m, topic);
    }
    for queue in &cx.aws.queues {
        self::queue(cx, &mut m, queue);
    }
    m
}

fn topic(cx: &Context, m: &mut Module, topic: &Topic) {
    let id = ident(&topic.name.value);
    let mut body = json!({
        "name": topic_name(cx.platform, topic),
        "kms_master_key_id": r("aws_kms_key.data.arn"),
    });
    if topic.fifo.value {
        body["fifo_topic"] = json!(true);
        body["content_based_deduplication"] = json!(true);
    }
    m.resource("aws_sns_topic", &id, body);
    let arn = r(&format!("aws_sns_topic.{id}.arn"));
    m.data(
        "aws_iam_policy_document",
        &format!("topic_{id}"),
        policy::document(vec![policy::deny_insecure_transport(
            &["sns:Publish", "sns:Subscribe"],
            std::slice::from_ref(&arn),
        )]),
    );
    m.resource(
        "aws_sns_topic_policy",
        &id,
        json!({
            "arn": arn,
            "policy": r(&format!("data.aws_iam_policy_document.topic_{id}.json")),
        }),
    );
}

fn queue(cx: &Context, m: &mut Module, queue: &Queue) {
    let id = ident(&queue.name.value);
    let dlq = format!("{id}_dlq");
    let fifo = |mut body: Value| {
        if queue.fifo.value {
            body["fifo_queue"] = json!(true);
            body["content_based_deduplication"] = json!(true);
        }
        body
    };
    m.resource(
        "aws_sqs_queue",
        &dlq,
        fifo(json!({
            "name": dead_letter_queue_name(cx.platform, queue),
            "kms_master_key_id": r("aws_kms_key.data.arn"),
            "kms_data_key_reuse_period_seconds": 300,
            "message_retention_seconds": 1_209_600,
        })),
    );
    let redrive = json!({
        "deadLetterTargetArn": r(&format!("aws_sqs_queue.{dlq}.arn")),
        "maxReceiveCount": 5,
    });
    m.resource(
        "aws_sqs_queue",
        &id,
        fifo(json!({
            "name": queue_name(cx.platform, queue),
            "kms_master_key_id": r("aws_kms_key.data.arn"),
            "kms_data_key_reuse_period_seconds": 300,
            "message_retention_seconds": 345_600,
            "redrive_policy": serde_json::to_string(&redrive).unwrap_or_default(),
        })),
    );
    let allow = json!({
        "redrivePermission": "byQueue",
        "sourceQueueArns": [r(&format!("aws_sqs_queue.{id}.arn"))],
    });
    m.resource(
        "aws_sqs_queue_redrive_allow_policy",
        &dlq,
        json!({
            "queue_url": r(&format!("aws_sqs_queue.{dlq}.id")),
            "redrive_allow_policy": serde_json::to_string(&allow).unwrap_or_default(),
        }),
    );
    for (queue_id, subscribed) in [(&dlq, None), (&id, queue.subscribe.as_ref())] {
        let arn = r(&format!("aws_sqs_queue.{queue_id}.arn"));
        let mut statements = vec![policy::deny_insecure_transport(
            &["sqs:*"],
            std::slice::from_ref(&arn),
        )];
        if let Some(topic) = subscribed {
            let topic_arn = r(&format!("aws_sns_topic.{}.arn", ident(&topic.value)));
            statements.push(json!({
                "sid": "TopicDelivers",
                "effect": "Allow",
                "actions": ["sqs:SendMessage"],
                "resources": [arn],
                "principals": [{"type": "Service", "identifiers": ["sns.amazonaws.com"]}],
                "condition": [{"test": "ArnEquals", "variable": "aws:SourceArn", "values": [topic_arn]}],
            }));
        }
        m.data(
            "aws_iam_policy_document",
            &format!("queue_{queue_id}"),
            policy::document(statements),
        );
        m.resource(
            "aws_sqs_queue_policy",
            queue_id,
            json!({
                "queue_url": r(&format!("aws_sqs_queue.{queue_id}.id")),
                "policy": r(&format!("data.aws_iam_policy_document.queue_{queue_id}.json")),
            }),
        );
    }
    if let Some(topic) = &queue.subscribe {
        let topic_id = ident(&topic.value);
        m.resource(
            "aws_sns_topic_subscription",
            &format!("{id}_from_{topic_id}"),
            json!({
                "topic_arn": r(&format!("aws_sns_topic.{topic_id}.arn")),
                "protocol": "sqs",
                "endpoint": r(&format!("aws_sqs_queue.{id}.arn")),
                "raw_message_delivery": true,
                // The queue admits the topic first: a message sent before would be lost.
                "depends_on": [format!("aws_sqs_queue_policy.{id}")],
            }),
        );
    }
}
