//! A reply's proto3 JSON written straight from its protobuf bytes.
//!
//! Decoding a reply into a `DynamicMessage` (a map entry per field, an
//! allocation per string and nested message) only to walk it again for
//! serialisation was the largest part of the gateway's own work on a read
//! (BENCHMARKS.md). [`Reply`] walks the wire bytes once with the descriptor
//! and writes through the same serde serializer, so the output is what
//! prost-reflect writes with `skip_default_fields(false)`: fields in number
//! order, defaults included, fields with presence only when set, 64-bit
//! integers as strings, enums by name, bytes in standard base64.
//!
//! Anything this walk does not treat itself goes through prost-reflect
//! unchanged: well-known types other than `Timestamp` (each has its own JSON
//! form), unknown fields, a singular field or oneof sent twice, a map with
//! a key twice. The test at the end checks the two agree on every message of
//! the API filled at random.

use base64::display::Base64Display;
use base64::prelude::BASE64_STANDARD;
use prost::encoding::{WireType, decode_key, decode_varint};
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, SerializeOptions};
use serde::ser::{Error as _, Serialize, SerializeMap, SerializeSeq, Serializer};

/// A reply: its message type and protobuf bytes, serialisable as proto3 JSON.
pub struct Reply<'a> {
    pub desc: &'a MessageDescriptor,
    pub bytes: &'a [u8],
}

impl Serialize for Reply<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        message(self.desc, self.bytes, serializer)
    }
}

/// The string in the top-level field `name`, if the bytes carry one (the
/// last occurrence, as protobuf decoding reads it).
pub fn string_field<'b>(desc: &MessageDescriptor, bytes: &'b [u8], name: &str) -> Option<&'b str> {
    let number = desc.get_field_by_name(name)?.number();
    let mut found = None;
    let mut rest = bytes;
    while !rest.is_empty() {
        let (n, wire) = decode_key(&mut rest).ok()?;
        let value = take(&mut rest, wire)?;
        if n == number && wire == WireType::LengthDelimited {
            found = Some(value);
        }
    }
    std::str::from_utf8(found?.bytes()).ok()
}

/// One field occurrence on the wire.
#[derive(Clone, Copy)]
enum Raw<'b> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(&'b [u8]),
}

impl<'b> Raw<'b> {
    fn bytes(self) -> &'b [u8] {
        match self {
            Raw::Bytes(b) => b,
            _ => &[],
        }
    }
}

/// Reads the value of a field whose key was just read.
fn take<'b>(rest: &mut &'b [u8], wire: WireType) -> Option<Raw<'b>> {
    Some(match wire {
        WireType::Varint => Raw::Varint(decode_varint(rest).ok()?),
        WireType::SixtyFourBit => {
            let (head, tail) = rest.split_first_chunk::<8>()?;
            *rest = tail;
            Raw::Fixed64(u64::from_le_bytes(*head))
        }
        WireType::ThirtyTwoBit => {
            let (head, tail) = rest.split_first_chunk::<4>()?;
            *rest = tail;
            Raw::Fixed32(u32::from_le_bytes(*head))
        }
        WireType::LengthDelimited => {
            let len = usize::try_from(decode_varint(rest).ok()?).ok()?;
            if len > rest.len() {
                return None;
            }
            let (value, tail) = rest.split_at(len);
            *rest = tail;
            Raw::Bytes(value)
        }
        WireType::StartGroup | WireType::EndGroup => return None,
    })
}

/// The occurrences of each field, by the field's position in number order;
/// `None` when the bytes hold something only prost-reflect should read.
fn scan<'b>(desc: &MessageDescriptor, bytes: &'b [u8]) -> Option<Vec<(u32, Raw<'b>)>> {
    let mut seen: Vec<(u32, Raw<'b>)> = Vec::with_capacity(16);
    let mut rest = bytes;
    while !rest.is_empty() {
        let (number, wire) = decode_key(&mut rest).ok()?;
        let raw = take(&mut rest, wire)?;
        let field = desc.get_field(number)?;
        if !field.is_list() && !field.is_map() {
            let again = seen.iter().any(|(n, _)| {
                *n == number
                    || field.containing_oneof().is_some_and(|o| {
                        desc.get_field(*n)
                            .and_then(|f| f.containing_oneof())
                            .is_some_and(|other| other == o)
                    })
            });
            if again {
                return None;
            }
        }
        seen.push((number, raw));
    }
    Some(seen)
}

fn message<S: Serializer>(
    desc: &MessageDescriptor,
    bytes: &[u8],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let full_name = desc.full_name();
    if full_name == "google.protobuf.Timestamp"
        && let Some(text) = timestamp(bytes)
    {
        return serializer.collect_str(&text);
    }
    let scanned = if full_name.starts_with("google.protobuf.") {
        None
    } else {
        scan(desc, bytes)
    };
    let Some(seen) = scanned else {
        return reflect(desc, bytes, serializer);
    };
    let mut map = serializer.serialize_map(None)?;
    for field in desc.fields() {
        let number = field.number();
        let mut here = seen.iter().filter(|(n, _)| *n == number).map(|(_, r)| *r);
        if field.is_map() {
            map.serialize_entry(
                field.json_name(),
                &MapField {
                    field: &field,
                    entries: &seen,
                },
            )?;
        } else if field.is_list() {
            map.serialize_entry(
                field.json_name(),
                &ListField {
                    field: &field,
                    entries: &seen,
                },
            )?;
        } else if let Some(raw) = here.next() {
            map.serialize_entry(
                field.json_name(),
                &Single {
                    kind: field.kind(),
                    raw,
                },
            )?;
        } else if !field.supports_presence() {
            map.serialize_entry(field.json_name(), &Default(field.kind()))?;
        }
    }
    map.end()
}

/// The exact path: decode, then prost-reflect's serializer.
fn reflect<S: Serializer>(
    desc: &MessageDescriptor,
    bytes: &[u8],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let message = DynamicMessage::decode(desc.clone(), bytes).map_err(S::Error::custom)?;
    message.serialize_with_options(
        serializer,
        &SerializeOptions::new().skip_default_fields(false),
    )
}

/// `Timestamp` in RFC 3339, when its bytes are plain seconds and nanos in
/// the range JSON allows (else prost-reflect says what is wrong).
fn timestamp(bytes: &[u8]) -> Option<String> {
    let (mut seconds, mut nanos) = (0i64, 0i32);
    let mut rest = bytes;
    while !rest.is_empty() {
        let (number, wire) = decode_key(&mut rest).ok()?;
        match (number, take(&mut rest, wire)?) {
            (1, Raw::Varint(v)) => seconds = v as i64,
            (2, Raw::Varint(v)) => nanos = v as i32,
            _ => return None,
        }
    }
    // prost-reflect's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
    if !(-62_135_596_800..=253_402_300_799).contains(&seconds) {
        return None;
    }
    Some(prost_types::Timestamp { seconds, nanos }.to_string())
}

struct Single<'b> {
    kind: Kind,
    raw: Raw<'b>,
}

impl Serialize for Single<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        scalar(&self.kind, self.raw, serializer)
    }
}

fn mismatch<E: serde::ser::Error>() -> E {
    E::custom("a field's wire type does not match its declared type")
}

fn scalar<S: Serializer>(kind: &Kind, raw: Raw<'_>, serializer: S) -> Result<S::Ok, S::Error> {
    match (kind, raw) {
        (Kind::Message(desc), Raw::Bytes(b)) => message(desc, b, serializer),
        (Kind::String, Raw::Bytes(b)) => {
            serializer.serialize_str(std::str::from_utf8(b).map_err(S::Error::custom)?)
        }
        (Kind::Bytes, Raw::Bytes(b)) => {
            serializer.collect_str(&Base64Display::new(b, &BASE64_STANDARD))
        }
        (Kind::Bool, Raw::Varint(v)) => serializer.serialize_bool(v != 0),
        (Kind::Int32, Raw::Varint(v)) => serializer.serialize_i32(v as i32),
        (Kind::Sint32, Raw::Varint(v)) => serializer.serialize_i32(zigzag32(v as u32)),
        (Kind::Uint32, Raw::Varint(v)) => serializer.serialize_u32(v as u32),
        (Kind::Int64, Raw::Varint(v)) => serializer.collect_str(&(v as i64)),
        (Kind::Sint64, Raw::Varint(v)) => serializer.collect_str(&zigzag64(v)),
        (Kind::Uint64, Raw::Varint(v)) => serializer.collect_str(&v),
        (Kind::Enum(e), Raw::Varint(v)) => enumeration(e, v as i32, serializer),
        (Kind::Fixed64, Raw::Fixed64(v)) => serializer.collect_str(&v),
        (Kind::Sfixed64, Raw::Fixed64(v)) => serializer.collect_str(&(v as i64)),
        (Kind::Double, Raw::Fixed64(v)) => float(f64::from_bits(v), serializer),
        (Kind::Fixed32, Raw::Fixed32(v)) => serializer.serialize_u32(v),
        (Kind::Sfixed32, Raw::Fixed32(v)) => serializer.serialize_i32(v as i32),
        (Kind::Float, Raw::Fixed32(v)) => {
            let v = f32::from_bits(v);
            if v.is_finite() {
                serializer.serialize_f32(v)
            } else {
                float(f64::from(v), serializer)
            }
        }
        _ => Err(mismatch()),
    }
}

/// An enum value by name (by number when the enum does not name it);
/// `NullValue` is JSON's null.
fn enumeration<S: Serializer>(
    e: &prost_reflect::EnumDescriptor,
    number: i32,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if e.full_name() == "google.protobuf.NullValue" {
        serializer.serialize_none()
    } else if let Some(value) = e.get_value(number) {
        serializer.serialize_str(value.name())
    } else {
        serializer.serialize_i32(number)
    }
}

fn float<S: Serializer>(v: f64, serializer: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        serializer.serialize_f64(v)
    } else if v == f64::INFINITY {
        serializer.serialize_str("Infinity")
    } else if v == f64::NEG_INFINITY {
        serializer.serialize_str("-Infinity")
    } else {
        serializer.serialize_str("NaN")
    }
}

fn zigzag32(v: u32) -> i32 {
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

fn zigzag64(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// The value of an absent field without presence.
struct Default(Kind);

impl Serialize for Default {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Kind::String => serializer.serialize_str(""),
            Kind::Bytes => serializer.serialize_str(""),
            Kind::Bool => serializer.serialize_bool(false),
            Kind::Float | Kind::Double => serializer.serialize_f64(0.0),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => {
                serializer.serialize_str("0")
            }
            Kind::Enum(e) => enumeration(e, e.default_value().number(), serializer),
            Kind::Message(_) => serializer.serialize_none(),
            _ => serializer.serialize_i32(0),
        }
    }
}

/// Whether a repeated field of this kind may come packed.
fn packable(kind: &Kind) -> bool {
    !matches!(kind, Kind::String | Kind::Bytes | Kind::Message(_))
}

struct ListField<'a, 'b> {
    field: &'a FieldDescriptor,
    entries: &'a [(u32, Raw<'b>)],
}

impl Serialize for ListField<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let kind = self.field.kind();
        let number = self.field.number();
        let mut seq = serializer.serialize_seq(None)?;
        for (_, raw) in self.entries.iter().filter(|(n, _)| *n == number) {
            match raw {
                Raw::Bytes(packed) if packable(&kind) => {
                    let mut rest = *packed;
                    let wire = match kind {
                        Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => WireType::SixtyFourBit,
                        Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => WireType::ThirtyTwoBit,
                        _ => WireType::Varint,
                    };
                    while !rest.is_empty() {
                        let item = take(&mut rest, wire).ok_or_else(mismatch::<S::Error>)?;
                        seq.serialize_element(&Single {
                            kind: kind.clone(),
                            raw: item,
                        })?;
                    }
                }
                raw => seq.serialize_element(&Single {
                    kind: kind.clone(),
                    raw: *raw,
                })?,
            }
        }
        seq.end()
    }
}

struct MapField<'a, 'b> {
    field: &'a FieldDescriptor,
    entries: &'a [(u32, Raw<'b>)],
}

impl Serialize for MapField<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Kind::Message(entry) = self.field.kind() else {
            return Err(mismatch());
        };
        let (key_kind, value_kind) = (
            entry.map_entry_key_field().kind(),
            entry.map_entry_value_field().kind(),
        );
        let number = self.field.number();
        let mut pairs: Vec<(MapKey<'_>, Option<Raw<'_>>)> = Vec::new();
        for (_, raw) in self.entries.iter().filter(|(n, _)| *n == number) {
            let (mut key, mut value) = (None, None);
            let mut rest = raw.bytes();
            while !rest.is_empty() {
                let (n, wire) = decode_key(&mut rest).map_err(S::Error::custom)?;
                let item = take(&mut rest, wire).ok_or_else(mismatch::<S::Error>)?;
                match n {
                    1 => key = Some(item),
                    2 => value = Some(item),
                    _ => {}
                }
            }
            let key = MapKey::read(&key_kind, key).ok_or_else(mismatch::<S::Error>)?;
            if let Some(slot) = pairs.iter_mut().find(|(k, _)| *k == key) {
                slot.1 = value;
            } else {
                pairs.push((key, value));
            }
        }
        let mut map = serializer.serialize_map(Some(pairs.len()))?;
        for (key, value) in pairs {
            let key = key.text();
            match value {
                Some(raw) => map.serialize_entry(
                    &key,
                    &Single {
                        kind: value_kind.clone(),
                        raw,
                    },
                )?,
                // An entry without a value holds the value's default (an
                // empty message for a message value).
                None => match &value_kind {
                    Kind::Message(desc) => {
                        map.serialize_entry(&key, &Reply { desc, bytes: &[] })?
                    }
                    other => map.serialize_entry(&key, &Default(other.clone()))?,
                },
            }
        }
        map.end()
    }
}

/// A map key, compared as protobuf compares them.
#[derive(PartialEq)]
enum MapKey<'b> {
    Text(&'b str),
    Bool(bool),
    Signed(i64),
    Unsigned(u64),
}

impl<'b> MapKey<'b> {
    fn read(kind: &Kind, raw: Option<Raw<'b>>) -> Option<Self> {
        Some(match (kind, raw) {
            (Kind::String, None) => MapKey::Text(""),
            (Kind::String, Some(Raw::Bytes(b))) => MapKey::Text(std::str::from_utf8(b).ok()?),
            (Kind::Bool, None) => MapKey::Bool(false),
            (Kind::Bool, Some(Raw::Varint(v))) => MapKey::Bool(v != 0),
            (Kind::Uint32 | Kind::Uint64 | Kind::Fixed32 | Kind::Fixed64, None) => {
                MapKey::Unsigned(0)
            }
            (_, None) => MapKey::Signed(0),
            (Kind::Int32, Some(Raw::Varint(v))) => MapKey::Signed(i64::from(v as i32)),
            (Kind::Int64, Some(Raw::Varint(v))) => MapKey::Signed(v as i64),
            (Kind::Sint32, Some(Raw::Varint(v))) => MapKey::Signed(i64::from(zigzag32(v as u32))),
            (Kind::Sint64, Some(Raw::Varint(v))) => MapKey::Signed(zigzag64(v)),
            (Kind::Uint32, Some(Raw::Varint(v))) => MapKey::Unsigned(u64::from(v as u32)),
            (Kind::Uint64, Some(Raw::Varint(v))) => MapKey::Unsigned(v),
            (Kind::Fixed32, Some(Raw::Fixed32(v))) => MapKey::Unsigned(u64::from(v)),
            (Kind::Sfixed32, Some(Raw::Fixed32(v))) => MapKey::Signed(i64::from(v as i32)),
            (Kind::Fixed64, Some(Raw::Fixed64(v))) => MapKey::Unsigned(v),
            (Kind::Sfixed64, Some(Raw::Fixed64(v))) => MapKey::Signed(v as i64),
            _ => return None,
        })
    }

    fn text(&self) -> std::borrow::Cow<'b, str> {
        match self {
            MapKey::Text(s) => std::borrow::Cow::Borrowed(s),
            MapKey::Bool(b) => b.to_string().into(),
            MapKey::Signed(n) => n.to_string().into(),
            MapKey::Unsigned(n) => n.to_string().into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;
    use prost_reflect::{DescriptorPool, MapKey as Key, Value};

    /// A small deterministic generator (splitmix64), so a failure repeats.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn text(rng: &mut Rng) -> String {
        const PIECES: [&str; 8] = ["a", "Z", "7", " ", "\"", "\\n", "광주", "é"];
        (0..rng.below(6))
            .map(|_| PIECES[rng.below(8) as usize])
            .collect()
    }

    fn value(kind: &Kind, rng: &mut Rng, depth: u32) -> Value {
        let edge = rng.below(4) == 0;
        match kind {
            Kind::Double => Value::F64(match rng.below(6) {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => -0.5,
                3 => 0.0,
                _ => (rng.next() as f64) / 3.0,
            }),
            Kind::Float => Value::F32(match rng.below(5) {
                0 => f32::NEG_INFINITY,
                1 => 1.5,
                _ => rng.next() as f32 / 7.0,
            }),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                Value::I32(if edge { i32::MIN } else { rng.next() as i32 })
            }
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                Value::I64(if edge { i64::MIN } else { rng.next() as i64 })
            }
            Kind::Uint32 | Kind::Fixed32 => Value::U32(rng.next() as u32),
            Kind::Uint64 | Kind::Fixed64 => Value::U64(if edge { u64::MAX } else { rng.next() }),
            Kind::Bool => Value::Bool(rng.below(2) == 0),
            Kind::String => Value::String(text(rng)),
            Kind::Bytes => Value::Bytes(
                (0..rng.below(7))
                    .map(|_| rng.next() as u8)
                    .collect::<Vec<u8>>()
                    .into(),
            ),
            Kind::Enum(e) => {
                let values: Vec<i32> = e.values().map(|v| v.number()).collect();
                // Now and then a number the enum does not name.
                Value::EnumNumber(if edge {
                    99
                } else {
                    values[rng.below(values.len() as u64) as usize]
                })
            }
            Kind::Message(desc) => Value::Message(fill(desc, rng, depth + 1)),
        }
    }

    fn key(kind: &Kind, rng: &mut Rng) -> Key {
        match value(kind, rng, 0) {
            Value::String(s) => Key::String(s),
            Value::Bool(b) => Key::Bool(b),
            Value::I32(n) => Key::I32(n),
            Value::I64(n) => Key::I64(n),
            Value::U32(n) => Key::U32(n),
            Value::U64(n) => Key::U64(n),
            other => panic!("not a map key: {other:?}"),
        }
    }

    /// A message of `desc` with a random subset of its fields set.
    fn fill(desc: &MessageDescriptor, rng: &mut Rng, depth: u32) -> DynamicMessage {
        let mut message = DynamicMessage::new(desc.clone());
        match desc.full_name() {
            "google.protobuf.Timestamp" => {
                let seconds = (rng.below(250_000_000_000) as i64) - 60_000_000_000;
                let nanos = [0, 1, 500_000_000, 123_456_000, 999_999_999][rng.below(5) as usize];
                message.set_field_by_name("seconds", Value::I64(seconds));
                message.set_field_by_name("nanos", Value::I32(nanos));
                return message;
            }
            // Their JSON forms have rules of their own (both sides use
            // prost-reflect for them); an empty one is enough here.
            name if name.starts_with("google.protobuf.") => return message,
            _ => {}
        }
        if depth > 3 {
            return message;
        }
        for field in desc.fields() {
            if rng.below(3) == 0 {
                continue;
            }
            let kind = field.kind();
            if field.is_map() {
                let Kind::Message(entry) = &kind else {
                    unreachable!()
                };
                let (k, v) = (
                    entry.map_entry_key_field().kind(),
                    entry.map_entry_value_field().kind(),
                );
                let map = (0..rng.below(4))
                    .map(|_| (key(&k, rng), value(&v, rng, depth)))
                    .collect();
                message.set_field(&field, Value::Map(map));
            } else if field.is_list() {
                let items = (0..rng.below(4))
                    .map(|_| value(&kind, rng, depth))
                    .collect();
                message.set_field(&field, Value::List(items));
            } else {
                message.set_field(&field, value(&kind, rng, depth));
            }
        }
        message
    }

    fn supplier() -> MessageDescriptor {
        DescriptorPool::decode(gearshift_proto::FILE_DESCRIPTOR_SET)
            .unwrap()
            .get_message_by_name("gearshift.registry.v1.Supplier")
            .unwrap()
    }

    fn expected(desc: &MessageDescriptor, bytes: &[u8]) -> Result<serde_json::Value, String> {
        let message = DynamicMessage::decode(desc.clone(), bytes).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        message
            .serialize_with_options(
                &mut serde_json::Serializer::new(&mut out),
                &SerializeOptions::new().skip_default_fields(false),
            )
            .map_err(|e| e.to_string())?;
        Ok(serde_json::from_slice(&out).expect("prost-reflect writes JSON"))
    }

    fn written(
        desc: &MessageDescriptor,
        bytes: &[u8],
    ) -> Result<(Vec<u8>, serde_json::Value), String> {
        let mut out = Vec::new();
        Reply { desc, bytes }
            .serialize(&mut serde_json::Serializer::new(&mut out))
            .map_err(|e| e.to_string())?;
        let value = serde_json::from_slice(&out).map_err(|e| format!("not JSON: {e}"))?;
        Ok((out, value))
    }

    #[test]
    fn every_message_of_the_api_is_written_as_prost_reflect_writes_it() {
        let pool = DescriptorPool::decode(gearshift_proto::FILE_DESCRIPTOR_SET).unwrap();
        let mut rng = Rng(20261128);
        let mut compared = 0;
        for desc in pool.all_messages().filter(|m| !m.is_map_entry()) {
            for _ in 0..25 {
                let bytes = fill(&desc, &mut rng, 0).encode_to_vec();
                let want = expected(&desc, &bytes);
                let got = written(&desc, &bytes);
                match (&want, &got) {
                    (Ok(want), Ok((_, got))) => assert_eq!(
                        got,
                        want,
                        "{}: {}",
                        desc.full_name(),
                        String::from_utf8_lossy(&got.to_string().into_bytes())
                    ),
                    (Err(_), Err(_)) => {}
                    _ => panic!("{}: {want:?} but {got:?}", desc.full_name()),
                }
                // Merged twice (every singular field repeated): the exact path.
                let twice = [bytes.clone(), bytes.clone()].concat();
                match (expected(&desc, &twice), written(&desc, &twice)) {
                    (Ok(want), Ok((_, got))) => assert_eq!(got, want, "{}", desc.full_name()),
                    (Err(_), Err(_)) => {}
                    (want, got) => panic!("{}: {want:?} but {got:?}", desc.full_name()),
                }
                compared += 1;
            }
        }
        assert!(compared > 1000, "compared only {compared} messages");
    }

    #[test]
    fn fields_come_in_number_order_with_defaults_as_prost_reflect_orders_them() {
        let desc = supplier();
        let mut rng = Rng(7);
        for _ in 0..50 {
            let message = fill(&desc, &mut rng, 0);
            let bytes = message.encode_to_vec();
            let mut want = Vec::new();
            message
                .serialize_with_options(
                    &mut serde_json::Serializer::new(&mut want),
                    &SerializeOptions::new().skip_default_fields(false),
                )
                .unwrap();
            let (got, _) = written(&desc, &bytes).unwrap();
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
    }

    #[test]
    fn a_reply_that_is_not_protobuf_is_an_error_not_a_guess() {
        let desc = supplier();
        for bytes in [&b"\xff\xff\xff"[..], b"\x0a\x05ab", b"\x0b"] {
            assert!(written(&desc, bytes).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn the_etag_is_read_from_the_reply() {
        let desc = supplier();
        let mut message = DynamicMessage::new(desc.clone());
        message.set_field_by_name("etag", Value::String("W/\"3\"".into()));
        message.set_field_by_name("id", Value::String("sup_1".into()));
        let bytes = message.encode_to_vec();
        assert_eq!(string_field(&desc, &bytes, "etag"), Some("W/\"3\""));
        assert_eq!(string_field(&desc, &[], "etag"), None);
        assert_eq!(string_field(&desc, &bytes, "no_such_field"), None);
    }
}
