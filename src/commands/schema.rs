//! `platc schema`: the language as a JSON Schema, for editors (`crate::schema`).

use crate::commands::Output;

pub fn run() -> Output {
    Output {
        stdout: crate::schema::text(),
        ..Output::default()
    }
}
