//! A serde serializer that writes YAML directly, in the canonical shape of `encode`: two-space
//! indent, sequences indented under their key, `{}` and `[]` for empty collections, strings
//! quoted whenever a reader could take them for anything else, literal blocks for multi-line
//! text. Keys come in the order the value serialises them (sorted, for maps and k8s-openapi's
//! types), and no intermediate tree is built, which keeps large builds fast.

use std::fmt::{self, Display, Write as _};

use serde::ser::{
    self, Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant,
    SerializeTuple, SerializeTupleStruct, SerializeTupleVariant,
};

/// The serde name of `Raw`, which this serializer writes verbatim.
const RAW: &str = "$platc::encode::Raw";

/// A leaf written into YAML as it is, unquoted: the holes of a Helm template
/// (`{{ .Values.replicaCount }}`). Only platc's own template text may be raw; a value from
/// `platform.kdl` never is (CONTRIBUTING: "Put text from platform.kdl into an output"). In
/// JSON it is a plain string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Raw(pub String);

impl Serialize for Raw {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(RAW, &self.0)
    }
}

/// The serde name of `JsonBlock`, which this serializer writes as a literal block.
const JSON_BLOCK: &str = "$platc::encode::JsonBlock";

/// A value written into YAML as the string of its pretty JSON text (`encode::pretty`'s, with
/// its trailing newline) would be, a literal block, without that text made first and then
/// indented line by line: the JSON is laid out at the block's indentation as it is written
/// (a dashboard's `ConfigMap`, 25 KB of JSON, `output::JsonConfigMap`). Only this serializer
/// knows it: any other sees the value itself, not its text.
pub struct JsonBlock<'a, T: ?Sized>(pub &'a T);

impl<T: Serialize + ?Sized> Serialize for JsonBlock<'_, T> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(JSON_BLOCK, self.0)
    }
}

/// Serialises a value as one YAML document with a trailing newline.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    let mut out = String::with_capacity(2048);
    write(&mut out, value)?;
    Ok(out)
}

/// Appends a value to `out` as one YAML document with a trailing newline (`out` is empty or
/// ends with one).
pub fn write<T: Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), Error> {
    let mut writer = Writer {
        out: std::mem::take(out),
    };
    let result = value.serialize(Value {
        w: &mut writer,
        level: 0,
        context: Context::Document,
    });
    *out = writer.out;
    result?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(())
}

/// Why a value could not be written (a map key that is not a string, say).
#[derive(Debug)]
pub struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

struct Writer {
    out: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Document,
    /// After `key:`.
    MapValue,
    /// After `- `.
    SeqItem,
}

/// Serialises one value at an indentation level in a context.
struct Value<'a> {
    w: &'a mut Writer,
    level: usize,
    context: Context,
}

impl<'a> Value<'a> {
    // Returns a Result so serializer methods can end with it.
    #[allow(clippy::unnecessary_wraps)]
    fn scalar(self, text: impl FnOnce(&mut String)) -> Result<(), Error> {
        if self.context == Context::MapValue {
            self.w.out.push(' ');
        }
        text(&mut self.w.out);
        self.w.out.push('\n');
        Ok(())
    }

    /// `JsonBlock(value)`: the block `serialize_str` writes for `value`'s pretty JSON text,
    /// laid out in place. JSON escapes every control character but DEL and the C1 controls,
    /// which only a quoted string can hold (`is_block_candidate`): a text with one of them
    /// is made and written as `serialize_str` writes it.
    fn json_block<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        let start = self.w.out.len();
        if self.context == Context::MapValue {
            self.w.out.push(' ');
        }
        self.w.out.push_str("|\n");
        indent(&mut self.w.out, self.level);
        let body = self.w.out.len();
        let mut bytes = std::mem::take(&mut self.w.out).into_bytes();
        let written = super::pretty_into(&mut bytes, value, self.level);
        // serde_json writes whole UTF-8 strings, even when it fails.
        self.w.out = String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        written.map_err(ser::Error::custom)?;
        self.w.out.push('\n');
        if !quoted_only(&self.w.out[body..]) {
            return Ok(());
        }
        self.w.out.truncate(start);
        ser::Serializer::serialize_str(self, &super::pretty(value, 0))
    }

    fn collection(self, kind: Kind) -> Collection<'a> {
        Collection {
            w: self.w,
            level: self.level,
            context: self.context,
            kind,
            count: 0,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    Seq,
}

/// An open mapping or sequence; written lazily, so an empty one becomes `{}` or `[]`.
struct Collection<'a> {
    w: &'a mut Writer,
    level: usize,
    context: Context,
    kind: Kind,
    count: usize,
}

impl Collection<'_> {
    /// Starts the next item: a line break after `key:` for the first, the indentation, and
    /// `- ` for sequence items.
    fn start_item(&mut self) {
        if self.count == 0 && self.context == Context::MapValue {
            self.w.out.push('\n');
        }
        if !(self.count == 0 && self.context == Context::SeqItem) {
            indent(&mut self.w.out, self.level);
        }
        if self.kind == Kind::Seq {
            self.w.out.push_str("- ");
        }
        self.count += 1;
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.start_item();
        value.serialize(Value {
            w: self.w,
            level: self.level + 2,
            context: Context::SeqItem,
        })
    }

    fn entry<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        self.start_item();
        write_string(&mut self.w.out, key);
        self.w.out.push(':');
        value.serialize(Value {
            w: self.w,
            level: self.level + 2,
            context: Context::MapValue,
        })
    }

    #[allow(clippy::unnecessary_wraps)]
    fn finish(self) -> Result<(), Error> {
        if self.count == 0 {
            if self.context == Context::MapValue {
                self.w.out.push(' ');
            }
            self.w
                .out
                .push_str(if self.kind == Kind::Map { "{}" } else { "[]" });
            self.w.out.push('\n');
        }
        Ok(())
    }
}

/// A map whose key is serialised before its value.
struct MapWriter<'a> {
    inner: Collection<'a>,
    key: Option<String>,
}

impl<'a> ser::Serializer for Value<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Collection<'a>;
    type SerializeTuple = Collection<'a>;
    type SerializeTupleStruct = Collection<'a>;
    type SerializeTupleVariant = Collection<'a>;
    type SerializeMap = MapWriter<'a>;
    type SerializeStruct = Collection<'a>;
    type SerializeStructVariant = Collection<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.scalar(|out| out.push_str(if v { "true" } else { "false" }))
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.scalar(|out| {
            let _ = write!(out, "{v}");
        })
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.scalar(|out| {
            let _ = write!(out, "{v}");
        })
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        if !v.is_finite() {
            return Err(Error("YAML output of a non-finite number".into()));
        }
        // The same text serde_json gives, so JSON and YAML agree.
        let text = serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string());
        self.scalar(|out| out.push_str(&text))
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        if is_block_candidate(v) {
            let level = self.level;
            if self.context == Context::MapValue {
                self.w.out.push(' ');
            }
            write_block(&mut self.w.out, v, level);
            return Ok(());
        }
        self.scalar(|out| write_string(out, v))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(Error("YAML output of raw bytes".into()))
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.scalar(|out| out.push_str("null"))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if name == JSON_BLOCK {
            return self.json_block(value);
        }
        if name == RAW {
            // Template text (`{{ .Values.x }}`): written as it is, never quoted.
            let text = value.serialize(KeySerializer)?;
            return self.scalar(|out| out.push_str(&text));
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let mut map = self.collection(Kind::Map);
        map.entry(variant, value)?;
        map.finish()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Collection<'a>, Error> {
        Ok(self.collection(Kind::Seq))
    }
    fn serialize_tuple(self, _: usize) -> Result<Collection<'a>, Error> {
        Ok(self.collection(Kind::Seq))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Collection<'a>, Error> {
        Ok(self.collection(Kind::Seq))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Collection<'a>, Error> {
        Err(Error("YAML output of a tuple variant".into()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapWriter<'a>, Error> {
        Ok(MapWriter {
            inner: self.collection(Kind::Map),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Collection<'a>, Error> {
        Ok(self.collection(Kind::Map))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Collection<'a>, Error> {
        Err(Error("YAML output of a struct variant".into()))
    }
}

impl SerializeSeq for Collection<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl SerializeTuple for Collection<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl SerializeTupleStruct for Collection<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl SerializeTupleVariant for Collection<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl SerializeStruct for Collection<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.entry(key, value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl SerializeStructVariant for Collection<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.entry(key, value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl SerializeMap for MapWriter<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a map value without a key".into()))?;
        self.inner.entry(&key, value)
    }
    fn end(self) -> Result<(), Error> {
        self.inner.finish()
    }
}

/// Map keys must be strings.
struct KeySerializer;

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = ser::Impossible<String, Error>;
    type SerializeTuple = ser::Impossible<String, Error>;
    type SerializeTupleStruct = ser::Impossible<String, Error>;
    type SerializeTupleVariant = ser::Impossible<String, Error>;
    type SerializeMap = ser::Impossible<String, Error>;
    type SerializeStruct = ser::Impossible<String, Error>;
    type SerializeStructVariant = ser::Impossible<String, Error>;

    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_owned())
    }
    fn serialize_bool(self, _: bool) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_i8(self, _: i8) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_i16(self, _: i16) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_i32(self, _: i32) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_i64(self, _: i64) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_u8(self, _: u8) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_u16(self, _: u16) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_u32(self, _: u32) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_u64(self, _: u64) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_f32(self, _: f32) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_f64(self, _: f64) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_char(self, v: char) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, Error> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
}

fn key_error() -> Error {
    Error("a YAML map key that is not a string".into())
}

pub(crate) fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = n;
    while left > 0 {
        let step = left.min(SPACES.len());
        out.push_str(&SPACES[..step]);
        left -= step;
    }
}

/// A multi-line string without trailing spaces reads best as a literal block: it holds a line
/// break, starts with neither a space nor one, holds no control character but line breaks
/// (so no tab or carriage return), no run of three line breaks, no line ending in a space,
/// and does not end in two line breaks. Dashboards are large: each test is one pass that
/// the compiler vectorises, and the rare C1 controls are looked for only after a 0xC2 byte.
pub(crate) fn is_block_candidate(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.first().is_none_or(|&b| b == b' ' || b == b'\n')
        || bytes.last() == Some(&b' ')
        || s.ends_with("\n\n")
        // Most strings are one line: a vectorised search rejects them first.
        || memchr::memchr(b'\n', bytes).is_none()
    {
        return false;
    }
    // C0 controls but the line break, and DEL; no early exit, so the loop vectorises.
    let controls = bytes.iter().fold(0u8, |any, &b| {
        any | u8::from((b < 0x20 && b != b'\n') || b == 0x7f)
    });
    if controls != 0 {
        return false;
    }
    // A space before a line break, or three line breaks in a row: one pass over each byte
    // and its next two, which vectorises too (a substring search per rule did not); the
    // last two bytes have no third.
    let next = bytes.get(1..).unwrap_or_default();
    let after = bytes.get(2..).unwrap_or_default();
    let breaks = bytes
        .iter()
        .zip(next)
        .zip(after)
        .fold(0u8, |any, ((&a, &b), &c)| {
            // Bitwise, not short-circuit: branch-free, so the compiler vectorises it.
            let at_break = u8::from(b == b'\n');
            let after_space = u8::from(a == b' ');
            let third = u8::from(a == b'\n') & u8::from(c == b'\n');
            any | (at_break & (after_space | third))
        });
    breaks == 0
        && !s.ends_with(" \n")
        // The C1 controls, U+0080..U+009F, are 0xC2 0x80..0x9F in UTF-8.
        && (memchr::memchr(0xc2, bytes).is_none()
            || !s.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)))
}

/// Whether `s` holds DEL or a C1 control (U+0080..U+009F, 0xC2 0x80..0x9F in UTF-8), which
/// `is_block_candidate` leaves to a quoted string.
fn quoted_only(s: &str) -> bool {
    let bytes = s.as_bytes();
    memchr::memchr(0x7f, bytes).is_some()
        || (memchr::memchr(0xc2, bytes).is_some()
            && s.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)))
}

pub(crate) fn write_block(out: &mut String, s: &str, level: usize) {
    out.push_str(if s.ends_with('\n') { "|\n" } else { "|-\n" });
    let body = s.trim_end_matches('\n');
    let mut pad = String::new();
    indent(&mut pad, level);
    out.reserve(s.len() + s.len() / 4);
    // The lines of a dashboard are short: one vectorised search over the whole text
    // (`memchr_iter`) finds their ends faster than a search started at each line.
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', body.as_bytes()).chain([body.len()]) {
        let line = &body[start..end];
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
        out.push('\n');
        start = end + 1;
    }
}

/// A string as a plain scalar when that is unambiguous, else double-quoted (JSON escapes are
/// valid YAML escapes).
pub(crate) fn write_string(quoted: &mut String, s: &str) {
    if is_plain_safe(s) {
        quoted.push_str(s);
        return;
    }
    quoted.push('"');
    let bytes = s.as_bytes();
    // Nothing to escape, as in most strings quoted: found so in one pass that the compiler
    // vectorises (bitwise, without an early exit), and copied whole.
    if !may_escape(bytes) {
        quoted.push_str(s);
        quoted.push('"');
        return;
    }
    // No control, DEL or C1 control (a query, whose label values are quoted): only `"` and
    // `\`, which a vectorised search finds, are escaped, each with a backslash.
    let controls = bytes.iter().fold(0u8, |any, &b| {
        any | u8::from(b < 0x20) | u8::from(b == 0x7f) | u8::from(b == 0xc2)
    });
    if controls == 0 {
        let mut run = 0;
        for at in memchr::memchr2_iter(b'"', b'\\', bytes) {
            quoted.push_str(&s[run..at]);
            quoted.push('\\');
            run = at;
        }
        quoted.push_str(&s[run..]);
        quoted.push('"');
        return;
    }
    // Runs of bytes that need no escape are copied whole. Every character escaped is ASCII
    // but the C1 controls, U+0080..U+009F, which are 0xC2 0x80..0x9F in UTF-8; so a run
    // always ends on a character boundary.
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Sixteen bytes at a time where none may need an escape (a query between its
        // quoted label values).
        if bytes.get(i..i + 16).is_some_and(|chunk| !may_escape(chunk)) {
            i += 16;
            continue;
        }
        let b = bytes[i];
        let (escape, len): (&str, usize) = match b {
            b'"' => ("\\\"", 1),
            b'\\' => ("\\\\", 1),
            b'\n' => ("\\n", 1),
            b'\t' => ("\\t", 1),
            b'\r' => ("\\r", 1),
            0..0x20 | 0x7f => ("", 1),
            0xc2 if bytes
                .get(i + 1)
                .is_some_and(|&next| (0x80..0xa0).contains(&next)) =>
            {
                ("", 2)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        quoted.push_str(&s[run..i]);
        if escape.is_empty() {
            // The code point: the byte itself, or for a C1 control its second byte.
            let _ = write!(quoted, "\\u{:04x}", bytes[i + len - 1]);
        } else {
            quoted.push_str(escape);
        }
        i += len;
        run = i;
    }
    quoted.push_str(&s[run..]);
    quoted.push('"');
}

/// Whether a byte of `bytes` may need an escape in a quoted string: a control, `"`, `\`,
/// DEL, or 0xC2, the first byte of a C1 control. Bitwise, without an early exit: one pass
/// that the compiler vectorises.
fn may_escape(bytes: &[u8]) -> bool {
    let any = bytes.iter().fold(0u8, |any, &b| {
        any | u8::from(b < 0x20)
            | u8::from(b == b'"')
            | u8::from(b == b'\\')
            | u8::from(b == 0x7f)
            | u8::from(b == 0xc2)
    });
    any != 0
}

/// Words a YAML 1.1 or 1.2 reader takes for booleans, nulls or special floats.
const RESERVED: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", "-.inf", "+.inf",
    ".nan",
];

/// The longest word of `RESERVED`.
const RESERVED_LEN: usize = 5;

/// The bytes a plain string may hold: ASCII letters, digits and `-_./`.
static PLAIN: [bool; 256] = {
    let mut plain = [false; 256];
    let mut byte: u8 = 0;
    loop {
        plain[byte as usize] =
            byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'/');
        if byte == u8::MAX {
            break plain;
        }
        byte += 1;
    }
};

/// Whether `s` reads back as the same string when written plain: ASCII letters, digits and
/// `-_./` only, not starting like a number or with one of YAML's indicators, and not a
/// reserved word. One pass over the bytes (most strings are names, keys and paths); the
/// reserved words are looked up only for strings as short as they are.
fn is_plain_safe(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    // Anything that starts like a number, or with one of YAML's indicators, is quoted.
    if first.is_ascii_digit()
        || matches!(
            first,
            b'-' | b'+'
                | b'.'
                | b'?'
                | b':'
                | b','
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
                | b'='
                | b' '
        )
    {
        return false;
    }
    // A table look-up a byte: most of these strings are keys of a few bytes, too short for a
    // vectorised pass to pay for its setup.
    bytes.iter().all(|&b| PLAIN[usize::from(b)])
        && (s.len() > RESERVED_LEN || !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule `is_block_candidate` implements in one pass, written plainly.
    fn block_rule(s: &str) -> bool {
        s.contains('\n')
            && !s.starts_with([' ', '\n'])
            && !s.contains(['\r', '\t'])
            && !s.trim_end_matches('\n').contains("\n\n\n")
            && s.lines().all(|l| !l.ends_with(' '))
            && !s.ends_with("\n\n")
            && s.chars().all(|c| !c.is_control() || c == '\n')
    }

    /// Every string of up to `len` characters of `alphabet`, the empty one first.
    fn strings_over(alphabet: &[char], len: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..len {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    /// Every string of up to five characters over an alphabet of the characters the block
    /// rule looks at.
    fn strings() -> Vec<String> {
        strings_over(
            &['a', ' ', '\n', '\t', '\r', '\u{85}', '\u{7f}', 'é', '\u{1}'],
            5,
        )
    }

    #[test]
    fn block_candidates_follow_the_rule() {
        let all = strings();
        assert!(all.len() > 60_000);
        let mut blocks = 0;
        for s in &all {
            assert_eq!(is_block_candidate(s), block_rule(s), "{s:?}");
            blocks += usize::from(block_rule(s));
        }
        assert!(blocks > 100, "the alphabet reaches both answers");
    }

    /// `value` written at the root, as a map's value, as a sequence's item, and deeper.
    fn at_each_place<T: Serialize>(value: &T) -> Vec<String> {
        use std::collections::BTreeMap;
        let deeper = BTreeMap::from([("x", vec![BTreeMap::from([("y", value)])])]);
        vec![
            to_string(value).unwrap(),
            to_string(&BTreeMap::from([("k", value)])).unwrap(),
            to_string(&[value]).unwrap(),
            to_string(&deeper).unwrap(),
        ]
    }

    /// A `JsonBlock` is written as the string of its value's pretty JSON text is: a literal
    /// block, or, when the text holds DEL or a C1 control (left unescaped by JSON), a quoted
    /// string; in every place a value can stand.
    #[test]
    fn a_json_block_is_written_as_the_string_of_its_text() {
        let texts = strings_over(&['a', ' ', '\n', '\u{85}', '\u{7f}', 'é', '\u{1}'], 3);
        let mut values: Vec<serde_json::Value> = texts
            .iter()
            .map(|s| {
                serde_json::json!({"a": s, "b": [s, 1, 2.5, true, null, {"c": s}], "d": {}, "e": [], s: s})
            })
            .collect();
        values.extend([
            serde_json::json!({}),
            serde_json::json!([]),
            serde_json::json!("text"),
            serde_json::json!(7),
        ]);
        let (mut blocks, mut quoted) = (0, 0);
        for value in &values {
            let text = crate::encode::json_in_field_order(value);
            let written = at_each_place(&JsonBlock(value));
            assert_eq!(written, at_each_place(&text), "{value}");
            if is_block_candidate(&text) {
                blocks += 1;
            } else {
                quoted += 1;
            }
        }
        assert!(
            blocks > 100 && quoted > 100,
            "both ways: {blocks} blocks, {quoted} quoted"
        );
    }

    /// The rule `is_plain_safe` implements, written plainly.
    fn plain_rule(s: &str) -> bool {
        let Some(first) = s.chars().next() else {
            return false;
        };
        !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
            && !first.is_ascii_digit()
            && !"-+.?:,[]{}#&*!|>'\"%@`= ".contains(first)
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    }

    #[test]
    fn plain_strings_follow_the_rule() {
        assert_eq!(
            RESERVED.iter().map(|r| r.len()).max(),
            Some(RESERVED_LEN),
            "RESERVED_LEN is the longest reserved word"
        );
        let alphabet = [
            'a', 'N', 'u', 'l', '1', '-', '_', '.', '/', ' ', ':', '~', '+', '"', 'é', '\n',
        ];
        let mut all = strings_over(&alphabet, 4);
        // Every reserved word, in any case, and one letter longer.
        for r in RESERVED {
            all.extend([
                r.to_string(),
                r.to_uppercase(),
                format!("{r}s"),
                format!("x{r}"),
            ]);
        }
        all.extend(
            [
                "nullable",
                "Nullable",
                "app.kubernetes.io/name",
                "ClusterIP",
                "v1",
            ]
            .map(String::from),
        );
        let mut plain = 0;
        for s in &all {
            assert_eq!(is_plain_safe(s), plain_rule(s), "{s:?}");
            plain += usize::from(plain_rule(s));
        }
        assert!(
            plain > 1_000 && plain < all.len() / 2,
            "both answers: {plain} of {}",
            all.len()
        );
        for word in [
            "null", "NULL", "True", "off", "y", "~", ".inf", "-.inf", ".NaN", "1.0", "-x",
        ] {
            assert!(!is_plain_safe(word), "{word}");
        }
    }

    /// `write_string`'s quoting, written plainly, a character at a time.
    fn quoted_rule(s: &str) -> String {
        let mut out = String::from('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn quoting_follows_the_rule() {
        // The characters next to the escaped ones in UTF-8 too: U+00A0 and U+0100 share a
        // first byte or a second with the C1 controls.
        let alphabet = [
            'a', '"', '\\', '\n', '\u{1f}', '\u{80}', '\u{9f}', '\u{a0}', '\u{100}', ' ',
        ];
        let mut checked = 0;
        for s in strings_over(&alphabet, 4).iter().chain(&strings()) {
            let mut out = String::new();
            write_string(&mut out, s);
            if !is_plain_safe(s) {
                assert_eq!(out, quoted_rule(s), "{s:?}");
                checked += 1;
            }
        }
        assert!(checked > 70_000, "{checked}");
        // Long strings, scanned sixteen bytes at a time: each character of the alphabet, and
        // pairs of them, at every place of 40, across the chunks' edges.
        let mut long = 0;
        for at in 0..40 {
            for c in alphabet {
                for d in ['a', '"', '\u{85}'] {
                    let mut chars = vec![':'; 40];
                    chars[at] = c;
                    chars[(at * 7 + 3) % 40] = d;
                    let s: String = chars.into_iter().collect();
                    let mut out = String::new();
                    write_string(&mut out, &s);
                    assert_eq!(out, quoted_rule(&s), "{s:?}");
                    long += 1;
                }
            }
        }
        assert_eq!(long, 1200);
    }

    #[test]
    fn quoted_strings_escape_what_they_must() {
        for s in strings() {
            let mut out = String::new();
            write_string(&mut out, &s);
            let parsed: String = serde_yaml::from_str(&out).expect("valid YAML");
            assert_eq!(parsed, s, "{out}");
        }
        let mut out = String::new();
        write_string(&mut out, "a\"b\\c\nd\u{1}é\u{85}\u{7f}\u{a0}");
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\u0001é\\u0085\\u007f\u{a0}\"");
    }

    #[test]
    fn indents_of_any_depth() {
        let mut out = String::new();
        indent(&mut out, 150);
        assert_eq!(out, " ".repeat(150));
    }
}
