//! The window may call exactly the commands the UI uses: every permission in `capabilities/main.json` matches an
//! `invoke` in `ui/js/bridge.js` and a command the app registers, and the other way round. No core or plugin
//! permission is granted at all.

use std::collections::BTreeSet;
use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

/// The quoted names after each `call('` in the bridge.
fn invoked_by_the_ui() -> BTreeSet<String> {
    let bridge = read("../ui/js/bridge.js");
    bridge.split("call('").skip(1).filter_map(|rest| rest.split('\'').next()).map(str::to_owned).collect()
}

fn granted() -> BTreeSet<String> {
    let capability: serde_json::Value = serde_json::from_str(&read("capabilities/main.json")).expect("valid JSON");
    let permissions = capability["permissions"].as_array().expect("a permissions list");
    permissions
        .iter()
        .map(|p| {
            let name = p.as_str().expect("plain permission names");
            let command = name.strip_prefix("allow-").unwrap_or_else(|| panic!("{name} is not an app command"));
            command.replace('-', "_")
        })
        .collect()
}

fn registered() -> BTreeSet<String> {
    let lib = read("src/lib.rs");
    lib.split("commands::").skip(1).filter_map(|rest| rest.split(',').next()).map(|s| s.trim().to_owned()).collect()
}

#[test]
fn the_window_is_granted_exactly_the_commands_the_ui_calls() {
    let ui = invoked_by_the_ui();
    assert!(ui.len() > 10, "the bridge was parsed: {ui:?}");
    assert_eq!(granted(), ui, "capabilities/main.json vs ui/js/bridge.js");
    assert_eq!(registered(), ui, "src/lib.rs generate_handler! vs ui/js/bridge.js");
}

#[test]
fn the_content_security_policy_forbids_inline_and_remote_code() {
    let config: serde_json::Value = serde_json::from_str(&read("tauri.conf.json")).expect("valid JSON");
    let csp = &config["app"]["security"]["csp"];
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["script-src"], "'self'", "no 'unsafe-inline', no 'unsafe-eval', no remote scripts");
    assert_eq!(csp["style-src"], "'self'");
    assert_eq!(csp["object-src"], "'none'");
}
