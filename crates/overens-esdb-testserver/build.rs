//! Generates the gRPC server (and a raw client for protocol tests) from the `.proto` files the
//! `eventstore` 4.0.0 crate ships, compiled by protox so that no `protoc` binary is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/streams.proto"];
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_build::configure()
        .build_server(true)
        .build_client(true)
        // Event payloads stay `Bytes` end to end (no copy into Vec<u8>).
        .bytes([
            ".event_store.client.StreamIdentifier.stream_name",
            ".event_store.client.streams.AppendReq.ProposedMessage.data",
            ".event_store.client.streams.AppendReq.ProposedMessage.custom_metadata",
            ".event_store.client.streams.ReadResp.ReadEvent.RecordedEvent.data",
            ".event_store.client.streams.ReadResp.ReadEvent.RecordedEvent.custom_metadata",
        ])
        .compile_fds(descriptors)?;
    for file in files.iter().chain(&[
        "proto/shared.proto",
        "proto/status.proto",
        "proto/code.proto",
    ]) {
        println!("cargo:rerun-if-changed={file}");
    }
    Ok(())
}
