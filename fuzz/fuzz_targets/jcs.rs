//! Fuzz target `jcs`: the properties of `overens_fuzz_props::check_jcs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = overens_fuzz_props::check_jcs(data);
});
