//! Mappings (SPEC §4): a TOML file that says which source field — a CSV
//! column or a dotted JSON path — gives each canonical column, and how to
//! parse it. The built-in vendor sources (`amazon-connect`, `five9`,
//! `talkdesk`) are mapping files embedded in the binary (`mappings/*.toml`);
//! `cxpipe ingest --mapping FILE` reads a user's own.
//!
//! The format is documented in the built-in files themselves and in
//! ARCHITECTURE.md ("Mappings"). In short, `[source]` names the source, its
//! `format` (`csv` or `json`: NDJSON or a JSON array), the fields that
//! `detect` it and the `version` field of dedupe; each `[columns.<name>]`
//! table maps one canonical column with these keys:
//!
//! | key | meaning |
//! |---|---|
//! | `field` | a source field, or a list of them (the first present wins) |
//! | `value` | a constant instead of a field |
//! | `default` | the text used when the field is absent or blank |
//! | `null` | texts that mean "absent" (`["[None]"]`) |
//! | `map` | value map, matched without regard to case; other values pass through |
//! | `unit` | durations: `s`, `ms`, `min` or `hh:mm:ss` |
//! | `format`, `zone` | timestamps: a strftime format, the zone of wall-clock times |
//! | `from`, `plus` | timestamps: another timestamp column plus duration fields |
//! | `only_if` | the column has a value only when this canonical column has one |
//! | `true`, `false` | booleans: the words for each value |
//! | `nonzero` | booleans: a count, true when above zero |
//! | `present`, `absent` | booleans: true when these fields are all present / all absent |
//! | `scale` | csat: the source scale `[lo, hi]`, mapped onto 1..5 |
//!
//! The module reads a mapping in the order of its submodules: `builtin`
//! (the embedded files), `schema`
//! (the TOML as serde sees it), `compile` (checked rules per column),
//! `detect` and `csv_layout` (one file's header or first object), then
//! per record `json_paths` (the fields of a JSON object) and `mapped`
//! (the typed values the conversion reads).

mod array_paths;
mod builtin;
mod compile;
mod csv_layout;
mod detect;
mod json_paths;
mod mapped;
mod schema;

pub use builtin::{BUILTIN, builtin_text};
pub use compile::{MapFormat, Mapping, vendors};
pub use csv_layout::MappedCsv;
pub use detect::value_at;
pub use json_paths::JsonRecord;
pub use mapped::{Mapped, Record, scale_csat};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv::CsvParser;
    use crate::parse;
    use crate::reason::ReasonCode;
    use crate::row::{Fields, Slot};
    use cxpipe_model::Zone;

    fn zone() -> Zone {
        Zone::utc()
    }

    #[test]
    fn builtins_parse() {
        for (name, text) in BUILTIN {
            let m = Mapping::parse(text, name).expect(name);
            assert_eq!(m.name, name);
        }
        assert_eq!(vendors().len(), BUILTIN.len() - 1);
    }

    #[test]
    fn csat_scales_onto_one_to_five() {
        let got: Vec<i64> = (1..=10).map(|v| scale_csat(v, 1, 10)).collect();
        assert_eq!(got, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        let got: Vec<i64> = (0..=10).map(|v| scale_csat(v, 0, 10)).collect();
        assert_eq!(got, [1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5]);
        assert_eq!(scale_csat(3, 1, 5), 3);
    }

    #[test]
    fn errors_name_the_file_line_and_key() {
        let base = "[source]\nname = \"x\"\nformat = \"csv\"\n";
        let req = "[columns.interaction_id]\nfield = \"id\"\n[columns.channel]\nvalue = \"voice\"\n[columns.direction]\nvalue = \"inbound\"\n[columns.arrived_at]\nfield = \"start\"\n[columns.ended_at]\nfield = \"end\"\n[columns.hold_ms]\ndefault = \"0\"\n[columns.acw_ms]\ndefault = \"0\"\n[columns.transferred]\ndefault = \"false\"\n";
        let ok = format!("{base}{req}[columns.talk_ms]\nfield = \"talk\"\nunit = \"s\"\n");
        Mapping::parse(&ok, "m.toml").expect("valid");
        let cases = [
            (
                format!("{base}{req}[columns.talk_ms]\nfield = \"talk\"\nunit = \"hours\"\n"),
                "m.toml:20: [columns.talk_ms] unit: \"hours\"",
            ),
            (
                format!("{base}{req}[columns.talk]\nfield = \"talk\"\n"),
                "m.toml:20: [columns.talk] is not a canonical column",
            ),
            (
                format!("{base}{req}[columns.queue]\nfeild = \"q\"\n"),
                "m.toml:21:",
            ),
            (
                format!("{base}{req}[columns.csat]\nfield = \"c\"\nscale = [10, 1]\n"),
                "[columns.csat] scale:",
            ),
            (
                format!("{base}{req}[columns.queue]\nfield = \"q\"\nunit = \"s\"\n"),
                "[columns.queue] unit: applies only to",
            ),
            (
                format!("{base}{req}[columns.answered_at]\nfield = \"a\"\nformat = \"%Q%\"\n"),
                "[columns.answered_at] format:",
            ),
            (
                format!("{base}{req}[columns.answered_at]\nfield = \"a\"\nzone = \"Mars/Base\"\n"),
                "[columns.answered_at] zone:",
            ),
            (
                base.replace("csv", "xml") + req,
                "m.toml:3: [source] format: \"xml\"",
            ),
            (
                format!("{base}[columns.interaction_id]\nfield = \"id\"\n"),
                "[columns.channel] is missing",
            ),
            (
                format!("[source]\nname = \"x\"\n{req}"),
                "m.toml: [source] format is missing",
            ),
            (
                "[source]\nname = \"x\"\nextends = \"genesys\"\n".to_string(),
                "m.toml:3: [source] extends: no built-in mapping \"genesys\"",
            ),
            (
                format!("{base}{req}[columns.queue]\nfield = \"q\"\nvalue = \"x\"\n"),
                "[columns.queue] needs exactly one of",
            ),
        ];
        for (text, want) in cases {
            let e = Mapping::parse(&text, "m.toml").expect_err(want);
            assert!(e.contains(want), "{e}\n  wanted: {want}");
        }
    }

    /// `format` lists, epoch and spreadsheet formats, and `time_field`:
    /// refused when they cannot work, read as the expected instants
    /// (computed outside cxpipe: Python's datetime, see the constants).
    #[test]
    fn timestamp_formats_lists_epochs_serials_and_time_fields() {
        let base = "[source]\nname = \"x\"\nformat = \"csv\"\n[columns.interaction_id]\nfield = \"id\"\n[columns.channel]\nvalue = \"voice\"\n[columns.direction]\nvalue = \"inbound\"\n[columns.ended_at]\nfield = \"end\"\nformat = \"epoch_s\"\n[columns.talk_ms]\ndefault = \"0\"\n[columns.hold_ms]\ndefault = \"0\"\n[columns.acw_ms]\ndefault = \"0\"\n[columns.transferred]\ndefault = \"false\"\n";
        let with = |arrived: &str| format!("{base}[columns.arrived_at]\n{arrived}");
        for (arrived, want) in [
            (
                "field = \"d\"\nformat = [\"%m/%d/%Y %H:%M\", \"%d.%m.%Y %H:%M\"]\n",
                "(month first) and",
            ),
            ("field = \"d\"\nformat = \"%s\"\n", "format = \"epoch_s\""),
            (
                "field = \"d\"\nformat = \"%Y-%m-%d\"\n",
                "has no time of day",
            ),
            ("field = \"d\"\nformat = []\n", "an empty list"),
            (
                "value = \"2026-10-01T00:00:00Z\"\ntime_field = \"t\"\n",
                "time_field: joins a time of day to a `field`",
            ),
        ] {
            let e = Mapping::parse(&with(arrived), "m.toml").expect_err(want);
            assert!(
                e.contains(want) && e.contains("m.toml:") && e.contains("[columns.arrived_at]"),
                "{e}\n  wanted: {want}"
            );
        }
        let e = Mapping::parse(&format!("{base}[columns.arrived_at]\nfield = \"d\"\n[columns.queue]\nfield = \"q\"\ntime_field = \"t\"\n"), "m.toml")
            .expect_err("time_field on text");
        assert!(
            e.contains(
                "[columns.queue] format/time_field/zone/from/plus/minus: applies only to timestamp"
            ),
            "{e}"
        );

        // 2026-10-01T12:00:00Z = 1790856000 s; 08:30 = 1790843400 s.
        let noon = 1_790_856_000_000_000i64;
        let half_past_eight = 1_790_843_400_000_000i64;
        let arrived = |spec: &str, header: &str, rec: &str| {
            let m = Mapping::parse(&with(spec), "m.toml").expect("valid");
            with_csv(&m, header, rec, |f| f.timestamp(Slot::ArrivedAt, &zone()))
        };
        let list = "field = \"d\"\nformat = [\"%m/%d/%Y %H:%M:%S\", \"%Y-%m-%d %H:%M:%S\", \"%a, %d %b %Y %H:%M:%S\"]\n";
        for text in [
            "10/01/2026 12:00:00",
            "2026-10-01 12:00:00",
            "\"Thu, 01 Oct 2026 12:00:00\"",
        ] {
            assert_eq!(
                arrived(list, "id,d,end", &format!("1,{text},1790856100")),
                Ok(Some(noon)),
                "{text}"
            );
        }
        let e =
            arrived(list, "id,d,end", "1,01.10.2026 12:00,1790856100").expect_err("no format fits");
        assert!(
            e.1.contains("matches none of the formats") && e.1.contains("%Y-%m-%d %H:%M:%S"),
            "{}",
            e.1
        );
        for (spec, text) in [
            ("field = \"d\"\nformat = \"epoch_s\"\n", "1790856000"),
            ("field = \"d\"\nformat = \"epoch_ms\"\n", "1790856000000"),
            ("field = \"d\"\nformat = \"epoch_us\"\n", "1790856000000000"),
            // 46296 days after 1899-12-30 is 2026-10-01; .5 is noon.
            ("field = \"d\"\nformat = \"serial\"\n", "46296.5"),
        ] {
            assert_eq!(
                arrived(spec, "id,d,end", &format!("1,{text},1790856100")),
                Ok(Some(noon)),
                "{spec}"
            );
        }
        assert_eq!(
            arrived(
                "field = \"d\"\nformat = \"epoch_s\"\n",
                "id,d,end",
                "1,1790856000.25,1790856100"
            ),
            Ok(Some(noon + 250_000))
        );
        let e = arrived(
            "field = \"d\"\nformat = \"epoch_s\"\n",
            "id,d,end",
            "1,1e9,1790856100",
        )
        .expect_err("exponent");
        assert!(e.1.contains("is not a number (epoch_s)"), "{}", e.1);
        // A date field and a time-of-day field.
        let split = "field = \"d\"\ntime_field = \"t\"\nformat = \"%m/%d/%Y %H:%M\"\n";
        assert_eq!(
            arrived(split, "id,d,t,end", "1,10/01/2026,08:30,1790856100"),
            Ok(Some(half_past_eight))
        );
        let serial = "field = \"d\"\ntime_field = \"t\"\nformat = \"serial\"\n";
        assert_eq!(
            arrived(serial, "id,d,t,end", "1,46296,0.5,1790856100"),
            Ok(Some(noon))
        );
        assert_eq!(
            arrived(serial, "id,d,t,end", "1,46296,08:30:00,1790856100"),
            Ok(Some(half_past_eight))
        );
        let e = arrived(serial, "id,d,t,end", "1,46296,1.5,1790856100").expect_err("fraction > 1");
        assert!(e.1.contains("not a fraction of a day"), "{}", e.1);
    }

    /// Maps one CSV record and hands the result to `f`.
    fn with_csv<T>(m: &Mapping, header: &str, rec: &str, f: impl FnOnce(&Mapped<'_>) -> T) -> T {
        let header: Vec<String> = header.split(',').map(str::to_string).collect();
        let layout = m.csv_layout(&header).expect("layout");
        let mut p = CsvParser::default();
        p.parse(rec.as_bytes()).expect("record");
        let r = Record::Csv {
            parser: &p,
            rec: rec.as_bytes(),
            layout: &layout,
        };
        f(&Mapped::new(m, &r, &zone()))
    }

    #[test]
    fn derived_times_value_maps_nulls_and_counts() {
        let m = &Mapping::builtin("five9").expect("five9");
        let header = "CALL ID,TIMESTAMP,CAMPAIGN,CALL TYPE,AGENT,AGENT GROUP,ANI,DNIS,QUEUE WAIT TIME,TALK TIME,HOLD TIME,AFTER CALL WORK TIME,TRANSFERS,ABANDONED,DISPOSITION";
        with_csv(
            m,
            header,
            "1,10/01/2026 08:00:00,sales,Manual,[None],,+15550100,+18005550100,00:00:30,00:01:00,00:00:10,00:00:20,2,0,",
            |f| {
                let t0 = parse::timestamp("2026-10-01T08:00:00Z", &zone()).expect("ts");
                assert_eq!(f.get(Slot::Direction), Ok(Some("outbound")));
                assert_eq!(f.get(Slot::AgentId), Ok(None));
                assert_eq!(f.get(Slot::Channel), Ok(Some("voice")));
                assert_eq!(f.timestamp(Slot::ArrivedAt, &zone()), Ok(Some(t0)));
                // No agent: never answered, though the wait is known.
                assert_eq!(f.timestamp(Slot::AnsweredAt, &zone()), Ok(None));
                assert_eq!(
                    f.timestamp(Slot::EndedAt, &zone()),
                    Ok(Some(t0 + 100_000_000))
                );
                assert_eq!(f.boolean(Slot::Transferred), Ok(Some(true)));
                assert_eq!(f.duration(Slot::Acw), Ok(Some(20_000)));
            },
        );
    }

    #[test]
    fn json_paths_presence_flags_and_wrong_types() {
        let m = &Mapping::builtin("amazon-connect").expect("connect");
        let text = br#"{"ContactId":"a","Channel":"VOICE","InitiationMethod":"INBOUND",
                "InitiationTimestamp":"2026-10-01T08:00:00Z","DisconnectTimestamp":"2026-10-01T08:05:00Z",
                "LastUpdateTimestamp":"2026-10-01T08:06:00Z","Other":{"deep":[1,{"x":null}]},
                "Queue":{"Name":" billing ","EnqueueTimestamp":"2026-10-01T08:00:10Z"},
                "Agent":null,"Attributes":{"csat":4}}"#;
        let rec = m.json_record(text).expect("object");
        let f = Mapped::new(m, &Record::Json(&rec), &zone());
        let f = &f;
        assert_eq!(f.boolean(Slot::Abandoned), Ok(Some(true)));
        assert_eq!(f.boolean(Slot::Transferred), Ok(Some(false)));
        assert_eq!(f.get(Slot::Queue), Ok(Some("billing")));
        assert_eq!(f.get(Slot::AgentId), Ok(None));
        assert_eq!(f.csat(), Ok(Some(4)), "a number where text is expected");
        let enqueued = parse::timestamp("2026-10-01T08:00:10Z", &zone()).expect("ts");
        assert_eq!(f.timestamp(Slot::ArrivedAt, &zone()), Ok(Some(enqueued)));
        assert!(f.version.clone().expect("version").is_some());
        let text =
            br#"{"ContactId":"a","Agent":"bob","Queue":{"Name":{"x":1}},"Channel":["VOICE"]}"#;
        let rec = m.json_record(text).expect("object");
        let f = Mapped::new(m, &Record::Json(&rec), &zone());
        let f = &f;
        let (code, msg) = f.get(Slot::AgentId).expect_err("agent is a string");
        assert_eq!(code, ReasonCode::MalformedRow);
        assert!(
            msg.contains("Agent is a JSON string, expected an object with Username"),
            "{msg}"
        );
        let (code, msg) = f.get(Slot::Queue).expect_err("queue name is an object");
        assert_eq!(code, ReasonCode::MalformedRow);
        assert!(
            msg.contains("Queue.Name is a JSON object, expected text"),
            "{msg}"
        );
        let (_, msg) = f.get(Slot::Channel).expect_err("an array");
        assert!(msg.contains("Channel is a JSON array"), "{msg}");
        for bad in [
            &b"[1]"[..],
            b"42",
            b"null",
            b"{\"a\":",
            b"{} {}",
            b"{\"ContactId\":\"a\"} x",
        ] {
            let (code, _) = m.json_record(bad).expect_err("not one object");
            assert_eq!(code, ReasonCode::MalformedRow);
        }
    }

    /// A mapping that extends a built-in keeps its source keys and columns
    /// and replaces the columns it gives.
    #[test]
    fn extends_overrides_columns_of_a_builtin() {
        let m = Mapping::parse(
            "[source]\nname = \"my-connect\"\nextends = \"amazon-connect\"\n\n[columns.csat]\nfield = \"Attributes.survey\"\nscale = [1, 10]\n",
            "mine.toml",
        )
        .expect("valid");
        assert_eq!((m.name.as_str(), m.format), ("my-connect", MapFormat::Json));
        assert!(m.version.is_some(), "the version field comes along");
        let rec = m
            .json_record(
                br#"{"ContactId":"a","Channel":"CHAT","Attributes":{"csat":"2","survey":"9"}}"#,
            )
            .expect("object");
        let f = Mapped::new(&m, &Record::Json(&rec), &zone());
        let f = &f;
        assert_eq!(f.csat(), Ok(Some(5)), "survey 9 of 10");
        assert_eq!(f.get(Slot::Channel), Ok(Some("chat")));
        let e = Mapping::parse(
            "[source]\nname = \"x\"\nextends = \"five9\"\n[columns.talk_ms]\nfield = \"TALK\"\n",
            "mine.toml",
        )
        .expect_err("no unit");
        assert!(e.starts_with("mine.toml:4: [columns.talk_ms] unit:"), "{e}");
    }

    /// Escaped keys and strings are read like plain ones.
    #[test]
    fn escapes_in_keys_and_values() {
        let m = &Mapping::builtin("amazon-connect").expect("connect");
        let rec = m
            .json_record(br#"{"Contact\u0049d":"a\"b","Queue":{"Name":"caf\u00e9"}}"#)
            .expect("object");
        let f = Mapped::new(m, &Record::Json(&rec), &zone());
        let f = &f;
        assert_eq!(f.get(Slot::InteractionId), Ok(Some("a\"b")));
        assert_eq!(f.get(Slot::Queue), Ok(Some("café")));
        let (code, msg) = m
            .json_record(b"{\"ContactId\":\"a\xff\"}")
            .expect_err("bad UTF-8");
        assert_eq!(code, ReasonCode::InvalidUtf8);
        assert!(msg.contains("byte 15"), "{msg}");
    }

    #[test]
    fn a_csv_header_without_a_required_field_fails() {
        let m = Mapping::builtin("five9").expect("five9");
        let header: Vec<String> = "CALL ID,TIMESTAMP,CAMPAIGN,AGENT,QUEUE WAIT TIME,HOLD TIME,AFTER CALL WORK TIME,TRANSFERS"
            .split(',')
            .map(str::to_string)
            .collect();
        let e = m.csv_layout(&header).expect_err("no TALK TIME");
        assert!(e.contains("missing required column TALK TIME"), "{e}");
    }
}
