//! The EMF lines an invocation prints, through the real client and the fake Intercom: what the dashboard and the
//! alarms in template.yaml read.

use std::time::Duration;

use fake_intercom::Fault;
use integration_tests::Stack;
use serde_json::json;
use shared::actions;
use shared::actions::escalate;
use shared::escalation::EscalationSettings;
use shared::metrics::{self, inspect};

async fn open_conversation(stack: &Stack) -> String {
    let c = &stack.client;
    let (status, body) = stack
        .call(json!({"userEmail":"jane@example.com","body":"Where is my parcel?"}), |i| {
            actions::create_conversation(c, stack.store.as_ref(), i)
        })
        .await;
    assert_eq!(status, 200, "{body}");
    body["conversationId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_answer_from_intercom_is_counted_by_status_class_with_its_latency() {
    let stack = Stack::direct().await;
    let id = open_conversation(&stack).await;
    let fake = stack.handle();
    fake.clear_requests();
    fake.inject(Fault::rate_limit("GET", "/conversations/*").reset_after(Duration::from_secs(1)));
    fake.inject(Fault::server_error(503, "GET", "/conversations/*"));
    let c = &stack.client;
    let ((status, body), docs) = metrics::capture(
        "get-conversation",
        stack.call(json!({"conversationId": id}), |i| actions::get_conversation(c, i)),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let answers = fake.requests();
    let count = |class: &str| answers.iter().filter(|r| metrics::status_class(r.status) == class).count() as f64;
    assert!(count("429") == 1.0 && count("5xx") == 1.0, "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    for class in ["2xx", "429", "5xx"] {
        let emitted = inspect::find(&docs, "IntercomCalls", &[("StatusClass", class)]);
        assert_eq!(
            inspect::total(&docs, "IntercomCalls", &[("StatusClass", class)]),
            count(class),
            "{class}: {docs:#?}"
        );
        assert!(emitted.iter().all(|e| e.unit == "Count" && e.function == "get-conversation"));
        assert!(emitted.iter().all(|e| e.dimension_sets == [vec!["Function", "StatusClass"], vec!["StatusClass"]]));
    }
    let latencies: Vec<f64> = inspect::find(&docs, "IntercomLatency", &[]).into_iter().flat_map(|e| e.values).collect();
    assert_eq!(latencies.len(), answers.len(), "one latency per answer");
    assert!(inspect::find(&docs, "IntercomLatency", &[]).iter().all(|e| e.unit == "Milliseconds"));
    // Three answers, three status classes: three documents, as EMF takes one StatusClass per document.
    assert_eq!(docs.len(), 3, "{docs:#?}");
}

#[tokio::test]
async fn a_local_escalation_prints_its_intercom_calls() {
    let stack = Stack::direct().await;
    let c = &stack.client;
    let settings = EscalationSettings::default();
    let input = json!({"sessionId":"metrics-1","userEmail":"jane@example.com","confidence":0.1,
                       "lastMessage":"I need a refund","transcript":[{"role":"ai","text":"Let me check."}]});
    let ((status, body), docs) =
        metrics::capture("escalate", stack.call(input, |i| escalate(c, stack.store.as_ref(), &settings, i, None)))
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(docs.len(), 1, "an escalation whose calls all succeed prints one line: {docs:#?}");
    let writes = stack.handle().requests().len() as f64;
    assert_eq!(inspect::total(&docs, "IntercomCalls", &[("Function", "escalate"), ("StatusClass", "2xx")]), writes);
}
