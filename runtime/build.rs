//! Compiles the ONNX messages the exporter writes (`proto/onnx.proto`) into
//! Rust types, with protox (a protobuf compiler in Rust: nothing to install)
//! and prost-build.

fn main() {
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    let descriptors = protox::compile(["proto/onnx.proto"], ["proto"])
        .expect("proto/onnx.proto is a valid protobuf schema");
    prost_build::Config::new()
        .compile_fds(descriptors)
        .expect("prost-build generates the ONNX types");
}
