//! Transcripts: a running server's room written as Markdown, HTML and JSON from its database, with poll results;
//! hostile room names from the bad-input corpus never reach a path.

use parlor_protocol::{ClientMessage, PollSpec};
use parlor_server::transcript::{self, Format, TranscriptError};

use crate::util::TestServer;

#[tokio::test]
async fn a_running_servers_room_exports_with_its_poll_results() {
    let server = TestServer::start().await;
    let mut teacher = server.client("teacher").await;
    let mut ana = server.client("ana").await;
    teacher.join("lobby", None).await;
    ana.join("lobby", None).await;
    teacher.say("lobby", "Good morning <class>").await;
    teacher
        .send(&ClientMessage::Send {
            room: "lobby".into(),
            text: "Which is prime?".into(),
            client_id: "poll-1".into(),
            poll: Some(PollSpec { options: vec!["9".into(), "11".into()], multiple: false }),
            reply_to: None,
            announce: false,
        })
        .await;
    let poll = teacher
        .recv_until(|e| match e {
            parlor_protocol::ServerEvent::Ack(ack) if ack.client_id == "poll-1" => Some(ack.seq),
            _ => None,
        })
        .await;
    ana.send(&ClientMessage::Vote { room: "lobby".into(), seq: poll, choices: vec![1] }).await;
    crate::polls::updated(&mut ana, poll).await;

    let markdown = transcript::export(server.dir.path(), "Lobby", Format::Markdown).expect("markdown");
    assert!(markdown.contains("Good morning \\<class\\>"), "{markdown}");
    assert!(markdown.contains("- 11: 1 vote (100%) — ana"), "{markdown}");
    let html = transcript::export(server.dir.path(), "lobby", Format::Html).expect("html");
    assert!(html.contains("Good morning &lt;class&gt;") && html.contains("11: 1 vote (100%)"));
    let json: serde_json::Value =
        serde_json::from_str(&transcript::export(server.dir.path(), "lobby", Format::Json).expect("json"))
            .expect("JSON");
    assert_eq!(json["messages"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["messages"][1]["poll"]["options"][1]["voters"][0], "ana");
}

#[tokio::test]
async fn hostile_names_never_become_paths() {
    let server = TestServer::start().await;
    let corpus: serde_json::Value = serde_json::from_str(include_str!("corpus/bad-input.json")).expect("the corpus");
    let names = corpus["export_names"].as_array().expect("export_names");
    assert!(names.len() >= 10);
    for name in names.iter().filter_map(|n| n.as_str()) {
        let file = transcript::file_name(name, Format::Html, 0);
        let path = std::path::Path::new(&file);
        assert_eq!(path.components().count(), 1, "{name:?} → {file:?} is one plain name");
        assert!(!file.contains(['/', '\\', '\0', ':']) && !file.contains("..") && file.len() < 100, "{file:?}");
        match transcript::export(server.dir.path(), name, Format::Markdown) {
            Err(TranscriptError::InvalidRoom(_) | TranscriptError::NoSuchRoom(_)) => {}
            other => panic!("{name:?}: {other:?}"),
        }
    }
}
