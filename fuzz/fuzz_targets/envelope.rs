//! Fuzz target `envelope`: the properties of `overens_fuzz_props::check_envelope`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = overens_fuzz_props::check_envelope(data);
});
