//! Paging through stored history.

use parlor_protocol::{ClientMessage, HistoryPage, ServerEvent};

use crate::util::{Client, TestServer};

async fn page(client: &mut Client, before: Option<u64>, after: Option<u64>, limit: u32) -> HistoryPage {
    client.send(&ClientMessage::History { room: "lobby".into(), before, after, limit: Some(limit) }).await;
    client
        .recv_until(|e| match e {
            ServerEvent::History(page) => Some(page),
            _ => None,
        })
        .await
}

fn seqs(page: &HistoryPage) -> Vec<u64> {
    page.messages.iter().map(|m| m.seq).collect()
}

#[tokio::test]
async fn history_pages_backwards_and_forwards() {
    let server = TestServer::start().await;
    let mut ana = server.client("ana").await;
    ana.join("lobby", None).await;
    for n in 1..=7 {
        ana.say("lobby", &format!("message {n}")).await;
    }
    let latest = page(&mut ana, None, None, 3).await;
    assert_eq!((seqs(&latest), latest.has_more), (vec![5, 6, 7], true));
    assert_eq!(latest.messages[0].text, "message 5");
    let older = page(&mut ana, Some(5), None, 3).await;
    assert_eq!((seqs(&older), older.has_more), (vec![2, 3, 4], true));
    let oldest = page(&mut ana, Some(2), None, 3).await;
    assert_eq!((seqs(&oldest), oldest.has_more), (vec![1], false));
    let newer = page(&mut ana, None, Some(4), 2).await;
    assert_eq!((seqs(&newer), newer.has_more), (vec![5, 6], true));
    let newest = page(&mut ana, None, Some(5), 10).await;
    assert_eq!((seqs(&newest), newest.has_more), (vec![6, 7], false));

    // History can be read without joining.
    let mut bo = server.client("bo").await;
    assert_eq!(seqs(&page(&mut bo, None, None, 50).await), (1..=7).collect::<Vec<_>>());
}
