//! Integration tests of the reports crate (one test binary, one module per concern).

mod compare;
mod exports;
mod html;
mod json;
mod merge;
mod output;
mod sample;
mod validator;
