//! Rebuilds the binary when embedded migrations or assets change: `embed_migrations!` and
//! `include_str!` of a directory listing are not tracked by cargo on their own.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=assets");
}
