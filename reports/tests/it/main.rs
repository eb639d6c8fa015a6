//! Integration tests of the reports crate (one test binary, one module per concern).

mod compare;
mod json;
mod sample;
mod validator;
