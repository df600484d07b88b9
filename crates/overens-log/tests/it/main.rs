//! Tests of overens-log against published vectors, an independent reference and other ports.

mod notes;
mod properties;
mod reference;
mod vectors;
