//! Compiles `proto/` with protox (pure Rust, no system `protoc`), generates the
//! tonic/prost code from the resulting descriptors and writes the descriptor set
//! that the gateway (routes, OpenAPI) and gRPC reflection read at run time.

use std::path::{Path, PathBuf};

/// Every `.proto` file under `dir`, relative to `root`, in a stable order:
/// a new service's API is picked up by adding its file.
fn proto_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            proto_files(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto")
            && let Ok(relative) = path.strip_prefix(root)
        {
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    println!(
        "cargo:rerun-if-changed={}",
        root.join("gearshift").display()
    );
    println!("cargo:rerun-if-changed={}", root.join("google").display());

    let mut compiler = protox::Compiler::new([&root])?;
    compiler.include_imports(true).include_source_info(true);
    let mut files = Vec::new();
    proto_files(&root, &root.join("gearshift"), &mut files)?;
    compiler.open_files(&files)?;

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
