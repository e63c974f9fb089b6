//! `cxpipe schema`: the canonical interaction record (SPEC §3).

use clap::ValueEnum;
use cxpipe_model::{COLUMNS, SCHEMA_VERSION};

/// Print the canonical schema.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  cxpipe schema --format json | jq '.columns[].name'")]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = SchemaFormat::Table)]
    pub format: SchemaFormat,
}

/// Output format of `schema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    /// Aligned text.
    Table,
    /// JSON.
    Json,
}

fn type_name(c: &cxpipe_model::Column) -> String {
    match c.kind {
        cxpipe_model::ColumnKind::Text => "Utf8".into(),
        cxpipe_model::ColumnKind::Dict => "Utf8 (dictionary)".into(),
        cxpipe_model::ColumnKind::Timestamp => "Timestamp(µs, UTC)".into(),
        cxpipe_model::ColumnKind::Int64 => "Int64".into(),
        cxpipe_model::ColumnKind::Bool => "Boolean".into(),
        cxpipe_model::ColumnKind::Int8 => "Int8".into(),
    }
}

/// Prints the schema.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let text = match args.format {
        SchemaFormat::Json => {
            let cols: Vec<_> = COLUMNS
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "name": c.name,
                        "type": type_name(c),
                        "nullable": c.nullable,
                        "meaning": c.meaning(),
                    })
                })
                .collect();
            let doc = serde_json::json!({"schema_version": SCHEMA_VERSION, "columns": cols});
            format!("{}\n", serde_json::to_string_pretty(&doc)?)
        }
        SchemaFormat::Table => {
            let mut s =
                format!("cxpipe canonical interaction record, schema version {SCHEMA_VERSION}\n\n");
            s.push_str(&format!(
                "{:<15} {:<19} {:<9} meaning\n",
                "column", "type", "nullable"
            ));
            for c in COLUMNS {
                s.push_str(&format!(
                    "{:<15} {:<19} {:<9} {}\n",
                    c.name,
                    type_name(&c),
                    if c.nullable { "yes" } else { "no" },
                    c.meaning()
                ));
            }
            s
        }
    };
    crate::output::emit(&text)
}
