//! The DynamoDB store on moto's local server, on the table template.yaml deploys (scripts/create-table.py): one
//! winner per key across separate clients, replayed answers, lapsed leases, expiry that never waits for TTL
//! deletes, compare-and-set races, and the errors a missing table or an unreachable store gives.

use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::moto::{self, Moto};
use shared::store::dynamodb::DynamoStore;
use shared::store::{Claim, Expect, Store, StoreError, Versioned};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

const TABLE: &str = "idempotency";
const LEASE: Duration = Duration::from_secs(30);
const KEEP: Duration = Duration::from_secs(3600);
const CLIENTS: usize = 8;
/// Long enough for a 1-second lease or keep to be over, whatever the second it was written in.
const PAST_ONE_SECOND: Duration = Duration::from_millis(2100);

/// `CLIENTS` stores on the table, each with its own SDK client and HTTP connection pool, as separate
/// containers would have.
async fn stores(moto: &Moto, table: &str) -> Vec<Arc<DynamoStore>> {
    let mut stores = Vec::new();
    for _ in 0..CLIENTS {
        stores.push(Arc::new(DynamoStore::new(&moto.sdk_config().await, table)));
    }
    stores
}

/// Runs `call` on every store at once (released together by a barrier) and returns the results in store order.
async fn race<T, F, Fut>(stores: &[Arc<DynamoStore>], call: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize, Arc<DynamoStore>) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(stores.len()));
    let mut tasks = JoinSet::new();
    for (i, store) in stores.iter().enumerate() {
        let (barrier, call) = (barrier.clone(), call(i, store.clone()));
        tasks.spawn(async move {
            barrier.wait().await;
            (i, call.await)
        });
    }
    let mut results: Vec<(usize, T)> = tasks.join_all().await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_have_one_winner_across_clients_and_replay_its_answer() {
    let Some(moto) = moto::start(None).await else { return };
    moto.create_idempotency_table(TABLE);
    let stores = stores(&moto, TABLE).await;

    let claims =
        race(&stores, |i, s| async move { s.claim("idem:race", &format!("fp-{i}"), LEASE).await.unwrap() }).await;
    let winners: Vec<usize> = (0..CLIENTS).filter(|&i| claims[i] == Claim::Acquired).collect();
    assert_eq!(winners.len(), 1, "exactly one claim wins: {claims:?}");
    let winner = winners[0];
    for (i, claim) in claims.iter().enumerate().filter(|(i, _)| *i != winner) {
        match claim {
            Claim::InProgress { fingerprint, retry_after } => {
                assert_eq!(fingerprint, &format!("fp-{winner}"), "client {i} sees who holds the key");
                assert!((1..=5).contains(&retry_after.as_secs()), "{retry_after:?}");
            }
            other => panic!("client {i} got {other:?} while the winner works"),
        }
    }

    let response = r#"{"conversationId":"42","ok":true}"#;
    stores[winner].complete("idem:race", &format!("fp-{winner}"), response, KEEP).await.unwrap();
    let replays = race(&stores, |_, s| async move { s.claim("idem:race", "fp-later", LEASE).await.unwrap() }).await;
    let expected = Claim::Completed { fingerprint: format!("fp-{winner}"), response: response.into() };
    assert!(replays.iter().all(|c| *c == expected), "every later claim replays the answer: {replays:?}");
    stores[0].release("idem:race").await.unwrap();
    assert_eq!(stores[1].claim("idem:race", "fp-x", LEASE).await.unwrap(), expected, "release never drops an answer");

    // Release gives an in-progress key back at once.
    assert_eq!(stores[0].claim("idem:release", "fp-a", LEASE).await.unwrap(), Claim::Acquired);
    stores[0].release("idem:release").await.unwrap();
    assert_eq!(stores[1].claim("idem:release", "fp-b", LEASE).await.unwrap(), Claim::Acquired);

    // A 1-second lease lapses; an answer kept 1 second expires. moto never deletes expired items, so this
    // passes only because every condition compares expires_at itself.
    let short = Duration::from_secs(1);
    assert_eq!(stores[0].claim("idem:lapse", "fp-crashed", short).await.unwrap(), Claim::Acquired);
    assert!(matches!(stores[1].claim("idem:lapse", "fp-b", LEASE).await.unwrap(), Claim::InProgress { .. }));
    assert_eq!(stores[2].claim("idem:expire", "fp-a", LEASE).await.unwrap(), Claim::Acquired);
    stores[2].complete("idem:expire", "fp-a", "old answer", short).await.unwrap();
    tokio::time::sleep(PAST_ONE_SECOND).await;
    assert_eq!(stores[1].claim("idem:lapse", "fp-b", LEASE).await.unwrap(), Claim::Acquired, "the lease lapsed");
    assert_eq!(stores[3].claim("idem:expire", "fp-new", LEASE).await.unwrap(), Claim::Acquired, "the answer expired");

    // The crashed holder coming back late does not overwrite the request that took over.
    stores[0].complete("idem:lapse", "fp-crashed", "late answer", KEEP).await.unwrap();
    match stores[4].claim("idem:lapse", "fp-c", LEASE).await.unwrap() {
        Claim::InProgress { fingerprint, .. } => assert_eq!(fingerprint, "fp-b"),
        other => panic!("the take-over's claim stands, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn values_are_compare_and_set_across_clients() {
    let Some(moto) = moto::start(None).await else { return };
    moto.create_idempotency_table(TABLE);
    let stores = stores(&moto, TABLE).await;

    let firsts = race(&stores, |i, s| async move {
        s.put_value("owner:7", &format!("agent-{i}"), Expect::Absent, KEEP).await.unwrap()
    })
    .await;
    let winners: Vec<usize> = (0..CLIENTS).filter(|&i| firsts[i].is_some()).collect();
    assert_eq!(winners.len(), 1, "exactly one marker is written: {firsts:?}");
    assert_eq!(firsts[winners[0]], Some(1));
    assert_eq!(
        stores[5].get_value("owner:7").await.unwrap(),
        Some(Versioned { value: format!("agent-{}", winners[0]), version: 1 })
    );

    let swaps = race(&stores, |i, s| async move {
        s.put_value("owner:7", &format!("human-{i}"), Expect::Version(1), KEEP).await.unwrap()
    })
    .await;
    let winners: Vec<usize> = (0..CLIENTS).filter(|&i| swaps[i].is_some()).collect();
    assert_eq!(winners.len(), 1, "exactly one compare-and-set wins: {swaps:?}");
    assert_eq!(swaps[winners[0]], Some(2));
    let current = stores[6].get_value("owner:7").await.unwrap();
    assert_eq!(current, Some(Versioned { value: format!("human-{}", winners[0]), version: 2 }));

    assert_eq!(stores[0].put_value("owner:7", "stale", Expect::Version(1), KEEP).await.unwrap(), None);
    assert_eq!(stores[0].put_value("owner:7", "forced", Expect::Any, KEEP).await.unwrap(), Some(3));
    assert_eq!(stores[0].put_value("owner:8", "fresh", Expect::Any, KEEP).await.unwrap(), Some(1));
    // An idempotency record under the key counts as version 0, as in the memory store.
    stores[0].claim("owner:9", "fp", LEASE).await.unwrap();
    assert_eq!(stores[1].put_value("owner:9", "over a claim", Expect::Absent, KEEP).await.unwrap(), None);
    assert_eq!(stores[1].put_value("owner:9", "over a claim", Expect::Any, KEEP).await.unwrap(), Some(1));
    assert_eq!(stores[1].get_value("owner:9").await.unwrap().map(|v| v.value), Some("over a claim".into()));

    // Expired values are absent (moto keeps the item), and can be written again from version 1.
    assert_eq!(stores[0].put_value("marker:1", "seen", Expect::Absent, Duration::from_secs(1)).await.unwrap(), Some(1));
    tokio::time::sleep(PAST_ONE_SECOND).await;
    assert_eq!(stores[1].get_value("marker:1").await.unwrap(), None);
    assert_eq!(stores[1].put_value("marker:1", "seen", Expect::Version(1), KEEP).await.unwrap(), None);
    assert_eq!(stores[1].put_value("marker:1", "again", Expect::Absent, KEEP).await.unwrap(), Some(1));

    stores[2].delete("marker:1").await.unwrap();
    stores[2].delete("marker:1").await.unwrap();
    assert_eq!(stores[3].get_value("marker:1").await.unwrap(), None);

    // A table that does not exist (wrong IDEMPOTENCY_TABLE, or another region) is a setup problem to fix.
    let missing = DynamoStore::new(&moto.sdk_config().await, "no-such-table");
    let errors = [
        missing.claim("k", "fp", LEASE).await.unwrap_err(),
        missing.get_value("k").await.unwrap_err(),
        missing.put_value("k", "v", Expect::Absent, KEEP).await.unwrap_err(),
        missing.release("k").await.unwrap_err(),
    ];
    for error in errors {
        assert!(matches!(error, StoreError::Misconfigured { .. }), "{error:?}");
        let shown = error.to_string();
        assert!(shown.contains("IDEMPOTENCY_TABLE") && shown.contains("does not exist"), "{shown}");
        assert!(!shown.contains("arn:") && !shown.contains("123456789012"), "no ARN or account: {shown}");
    }
}

#[tokio::test]
async fn an_unreachable_or_hung_store_is_unavailable_within_the_timeouts() {
    // Nothing listens: refused at once, retried once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    // Accepts connections (the kernel's backlog) and never answers: only the timeouts end the call.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hung_url = format!("http://{}", hung.local_addr().unwrap());

    for (what, url) in [("unreachable", closed_url), ("hung", hung_url)] {
        let store = DynamoStore::new(&moto::sdk_config_for(&url).await, TABLE);
        let started = Instant::now();
        let error = store.claim("k", "fp", LEASE).await.unwrap_err();
        let took = started.elapsed();
        assert!(matches!(error, StoreError::Unavailable { .. }), "{what}: {error:?}");
        assert!(took < Duration::from_millis(3000), "{what}: answered after {took:?}, past the 2 s operation timeout");
        let shown = error.to_string();
        assert!(shown.contains("retry shortly") && !shown.contains("127.0.0.1"), "{what}: {shown}");
        eprintln!("{what} store: {shown} after {took:?}");
    }
    drop(hung);
}
