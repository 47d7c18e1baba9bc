//! Rebuilds the server when a file of the web client (`../ui`) is added or removed. Edits to files already there
//! are tracked anyway (they are embedded with `include_bytes!`), but a new file would otherwise be missed.

fn main() {
    println!("cargo:rerun-if-changed=../ui/index.html");
    println!("cargo:rerun-if-changed=../ui/css");
    println!("cargo:rerun-if-changed=../ui/js");
}
