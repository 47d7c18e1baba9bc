//! The `parlor` desktop app. Everything happens in the library, so tests and other front ends can reuse it.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    parlor_desktop::run();
}
