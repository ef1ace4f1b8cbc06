//! Compiles `proto/` with protox (pure Rust, no system `protoc`), generates the
//! tonic/prost code from the resulting descriptors and writes the descriptor set
//! that the gateway (routes, OpenAPI) and gRPC reflection read at run time.

use std::path::PathBuf;

const FILES: &[&str] = &[
    "gearshift/registry/v1/registry.proto",
    "gearshift/iam/v1/iam.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    println!(
        "cargo:rerun-if-changed={}",
        root.join("gearshift").display()
    );
    println!("cargo:rerun-if-changed={}", root.join("google").display());

    let mut compiler = protox::Compiler::new([&root])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(FILES)?;

    // Encoded by protox itself: re-encoding through prost-types would drop the
    // `google.api.http` extension options the gateway routes from.
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("gearshift_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}
