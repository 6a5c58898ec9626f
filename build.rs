//! Records what the core is built with, for `tlsbench info` and results files.

use std::{env, fs, process::Command};

fn locked_version(lock: &str, name: &str) -> String {
    let needle = format!("name = \"{name}\"\nversion = \"");
    lock.find(&needle)
        .and_then(|i| lock[i + needle.len()..].split('"').next())
        .unwrap_or("unknown")
        .to_string()
}

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = fs::read_to_string("Cargo.lock").unwrap_or_default();
    for (var, name) in [
        ("TLSBENCH_PYO3_VERSION", "pyo3"),
        ("TLSBENCH_AWS_LC_RS_VERSION", "aws-lc-rs"),
        ("TLSBENCH_AWS_LC_SYS_VERSION", "aws-lc-sys"),
    ] {
        println!("cargo:rustc-env={var}={}", locked_version(&lock, name));
    }
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    println!("cargo:rustc-env=TLSBENCH_RUSTC_VERSION={}", version.trim());
    println!(
        "cargo:rustc-env=TLSBENCH_PROFILE={}",
        env::var("PROFILE").unwrap_or_default()
    );
    println!(
        "cargo:rustc-env=TLSBENCH_TARGET={}",
        env::var("TARGET").unwrap_or_default()
    );
}
