//! include_dir cannot tell Cargo which files it embedded on a stable toolchain, so without this
//! an edited template would not reach the binary until something else changed.

fn main() {
    println!("cargo::rerun-if-changed=../../skeleton");
}
